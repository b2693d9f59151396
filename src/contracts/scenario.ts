/**
 * A scenario: a named situation with its input and the decision expected for it. The catalogue in
 * scenarios/ is data shared by every runtime (wasm, sidecar, Envoy) and rendered in docs/.
 */
import * as z from "zod";
import { Code, Obligation, Outcome, Tier } from "./decision.js";
import { InputSchema } from "./input.js";
import { lazySchema } from "./lazy-schema.js";

export const ScenarioSchema = lazySchema(() => z.strictObject({
  name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "expected kebab-case"),
  title: z.string().min(1),
  description: z.string().optional(),
  input: InputSchema,
  expect: z.strictObject({
    outcome: Outcome,
    tier: Tier.optional(),
    /** Codes that must be among the reasons. */
    reasons: z.array(Code).optional(),
    /** Codes that must not be among the reasons. */
    absent_reasons: z.array(Code).optional(),
    /** The obligations, exactly. */
    obligations: z.array(Obligation).optional(),
  }),
}));

export type Scenario = z.output<typeof ScenarioSchema>;
