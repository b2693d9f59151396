/** JSON Schemas generated from the zod contracts: for `opa check --schema`, for docs and for users. */
import * as z from "zod";
import { DecisionSchema, VerdictSchema } from "./decision.js";
import { DecisionLogEventSchema } from "./decision-log.js";
import { InputSchema } from "./input.js";

type JsonSchema = Record<string, unknown>;

/**
 * The contracts by name. The input schema describes the document as the policy sees it (after the
 * SDK filled unknowns with null), since that is what the Rego is type-checked against.
 */
export function jsonSchemas(): Record<"input" | "verdict" | "decision" | "decision-log", JsonSchema> {
  return {
    input: z.toJSONSchema(InputSchema, { io: "output" }),
    verdict: z.toJSONSchema(VerdictSchema, { io: "output" }),
    decision: z.toJSONSchema(DecisionSchema, { io: "output" }),
    "decision-log": z.toJSONSchema(DecisionLogEventSchema, { io: "output" }),
  };
}

/**
 * The input schema as `opa check` should read it. OPA's type checker cannot see through a union
 * with null (a field under `anyOf: [object, null]` is never checked), so the union is replaced by
 * its non-null branch; the policy tests for null with `is_null` and `is_object`, which accept any
 * type. Field names, nesting and value types stay exactly the contract's.
 */
export function policyInputSchema(): JsonSchema {
  const { $schema: _, ...schema } = jsonSchemas().input;
  return dropNull(schema) as JsonSchema;
}

function dropNull(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropNull);
  if (typeof node !== "object" || node === null) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "default") continue;
    out[key] = dropNull(value);
  }
  const anyOf = out.anyOf as JsonSchema[] | undefined;
  if (anyOf) {
    const rest = anyOf.filter((branch) => branch.type !== "null");
    delete out.anyOf;
    if (rest.length === 1) Object.assign(out, rest[0]);
    else out.anyOf = rest;
  }
  if (Array.isArray(out.type)) {
    const types = (out.type as string[]).filter((t) => t !== "null");
    out.type = types.length === 1 ? types[0] : types;
  }
  return out;
}
