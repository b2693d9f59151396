/**
 * Contracts compiled once. zod interprets its schema on every call, which costs more than the
 * policy's own evaluation on the hot path; so the JSON Schema that zod generates is compiled into
 * code that only answers "does this value meet the contract?": ajv's standalone code for the
 * verdict, and the input contract's own compiler (src/input/compile.ts), which also normalizes and
 * writes the document and judges string formats with `FORMATS` below. Both start from JSON Schema
 * generated ahead of time (src/contracts/generated/, by scripts/contract-code.ts), so that a
 * process neither generates it nor runs ajv when it starts. zod stays the one source of every
 * contract: it generates the schema, and when the answer is no it parses the value again to name
 * each problem exactly as before. A property test holds the two to the same answers
 * (test/contracts/compiled.test.ts); another holds the generated files to the contracts
 * (test/contracts.test.ts).
 */
import * as z from "zod";

let IPv6: z.ZodIPv6 | undefined;
const isIPv6 = (text: string) => (IPv6 ??= z.ipv6()).safeParse(text).success;

/**
 * The contracts' string formats as zod judges them, for every compiled check: its IPv4 check is
 * the pattern the schema carries; its IPv6 check is more than a pattern.
 */
export const FORMATS: Readonly<Record<string, (text: string) => boolean>> = {
  ipv4: () => true,
  ipv6: isIPv6,
};

/** The JSON Schema of a contract, as zod generates it (`io: "input"` keeps the defaults). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io });
  return rest;
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
