/**
 * Contracts compiled once. zod interprets its schema on every call, which costs more than the
 * policy's own evaluation on the hot path; so the JSON Schema that zod generates is compiled into
 * code that only answers "does this value meet the contract?": checks generated ahead of time for
 * the verdict, the tuning data and the manifest (scripts/check-code.ts), and the input contract's
 * own compiler (src/input/compile.ts), which also normalizes and writes the document and judges
 * string formats with `FORMATS` below. All start from JSON Schema generated ahead of time
 * (src/contracts/generated/, by scripts/contract-code.ts), so that a process does not generate it
 * when it starts. zod stays the one source of every contract: it generates the schema, and when
 * the answer is no it parses the value again to name each problem exactly as before. A property test holds the two to the same answers
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
