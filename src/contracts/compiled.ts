/**
 * Contracts compiled once. zod interprets its schema on every call, which costs more than the
 * policy's own evaluation on the hot path; so the JSON Schema that zod generates is compiled by
 * ajv into a function that only answers "does this value meet the contract?" — the verdict's
 * check. (The input contract has its own compiler, src/input/compile.ts, which also normalizes
 * and writes the document; it judges string formats with `FORMATS` below.) zod stays the one
 * source of every contract: it generates the schema, and when the answer is no it parses the
 * value again to name each problem exactly as before. A property test holds the two to the same
 * answers (test/contracts/compiled.test.ts).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { z } from "zod";

/** A compiled yes/no check of a value against a contract. */
export interface Check {
  (value: unknown): boolean;
  /** Compiles the check now instead of on its first use (ajv takes tens of milliseconds). */
  prepare(): void;
}

const IPv6 = z.ipv6();
const isIPv6 = (text: string) => IPv6.safeParse(text).success;

/**
 * The contracts' string formats as zod judges them, for every compiled check: its IPv4 check is
 * the pattern the schema carries; its IPv6 check is more than a pattern.
 */
export const FORMATS: Readonly<Record<string, (text: string) => boolean>> = {
  ipv4: () => true,
  ipv6: isIPv6,
};

// Options that make ajv judge exactly as zod does: string lengths in code points (both
// libraries' default), patterns compiled without the u flag as zod's are, no NaN or Infinity for
// numbers, and string formats judged by zod itself (its IPv6 check is more than the pattern).
const ajv = new Ajv2020({
  // The schemas are zod's, checked by the property test; compiling ajv's meta-schema to check
  // them again would double the start-up cost.
  validateSchema: false,
  strict: true,
  strictNumbers: true,
  unicodeRegExp: false,
  allErrors: false,
  formats: {
    // zod's IPv4 check is its pattern, which the schema carries; its IPv6 check is more.
    ipv4: true,
    ipv6: { type: "string", validate: isIPv6 },
  },
});

/** The JSON Schema of a contract, as zod generates it (`io: "input"` keeps the defaults). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io });
  return rest;
}

/** Compiles a contract into a yes/no check, on its first use (importing the SDK stays cheap). */
export function compileCheck(schema: z.ZodType, io: "input" | "output"): Check {
  let validate: ((value: unknown) => boolean) | undefined;
  const compiled = () => (validate ??= ajv.compile(flattenNullable(jsonSchemaOf(schema, io)) as Record<string, unknown>));
  return Object.assign((value: unknown) => compiled()(value) === true, { prepare: () => void compiled() });
}

type Node = Record<string, unknown>;

/**
 * `anyOf: [X, {type: "null"}]` rewritten as X with "null" added to its type (and to its enum):
 * the same set of values, but ajv no longer builds an error for the failed branch of every null
 * field, which was most of its time on a typical input.
 */
export function flattenNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(flattenNullable);
  if (node === null || typeof node !== "object") return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) out[key] = flattenNullable(value);
  const anyOf = out.anyOf as Node[] | undefined;
  if (!anyOf || anyOf.length !== 2) return out;
  const nonNull = anyOf.filter((branch) => !(branch.type === "null" && Object.keys(branch).length === 1));
  const branch = nonNull[0];
  if (nonNull.length !== 1 || !branch || typeof branch.type !== "string" || "anyOf" in branch || "const" in branch) return out;
  const { anyOf: _, ...rest } = out;
  const merged: Node = { ...rest, ...branch, type: [branch.type, "null"] };
  if (Array.isArray(branch.enum)) merged.enum = [...(branch.enum as unknown[]), null];
  return merged;
}
