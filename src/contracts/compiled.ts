/**
 * Contracts compiled once. zod interprets its schema on every call, which costs more than the
 * policy's own evaluation on the hot path; so the JSON Schema that zod generates is compiled by
 * ajv into a function that only answers "does this value meet the contract?". zod stays the one
 * source of every contract: it generates the schema, and when the answer is no it parses the
 * value again to name each problem exactly as before. A property test holds the two to the same
 * answers (test/contracts/compiled.test.ts).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { z } from "zod";

/** A compiled yes/no check of a value against a contract. */
export type Check = (value: unknown) => boolean;

const IPv4 = z.ipv4();
const IPv6 = z.ipv6();

// Options that make ajv judge exactly as zod does: string lengths in code points (both
// libraries' default), patterns compiled without the u flag as zod's are, no NaN or Infinity for
// numbers, and string formats judged by zod itself (its IPv6 check is more than the pattern).
const ajv = new Ajv2020({
  strict: true,
  strictNumbers: true,
  unicodeRegExp: false,
  allErrors: false,
  formats: {
    ipv4: { type: "string", validate: (s: string) => IPv4.safeParse(s).success },
    ipv6: { type: "string", validate: (s: string) => IPv6.safeParse(s).success },
  },
});

/** The JSON Schema of a contract, as zod generates it (`io: "input"` keeps the defaults). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io });
  return rest;
}

/** Compiles a contract into a yes/no check. */
export function compileCheck(schema: z.ZodType, io: "input" | "output"): Check {
  const validate = ajv.compile(jsonSchemaOf(schema, io));
  return (value) => validate(value) === true;
}
