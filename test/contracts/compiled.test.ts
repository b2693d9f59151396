/**
 * The compiled checks (ajv, and the engine's checked writer, both from the JSON Schema zod
 * generates) must answer exactly as zod does: a check that accepted what zod rejects would let a
 * bad document reach the policy. fast-check breaks valid documents at random places with awkward
 * values and compares the answers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileCheck, jsonSchemaOf } from "../../src/contracts/compiled.js";
import { ConfigSchema } from "../../src/contracts/config.js";
import { VerdictSchema } from "../../src/contracts/decision.js";
import { InputSchema } from "../../src/contracts/input.js";
import { compileInputWriter, INVALID } from "../../src/engine/input-writer.js";
import { parseInput } from "../../src/input/validate.js";
import { inputDraftArb, sampleInputs } from "../support/arbitraries.js";
import { testStepup } from "../helpers.js";

const RUNS = { numRuns: 3000, seed: 9 };

/** Values that sit on the edges of what JSON Schema and zod each accept. */
const awkward = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    0,
    -0,
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53,
    1e21,
    253402300800,
    "",
    "x",
    "FR",
    "fr",
    "FRA",
    "😀",
    "😀".repeat(40),
    "x".repeat(65),
    "a".repeat(129),
    "b".repeat(257),
    "10.0.0.1",
    "999.1.1.1",
    "::1",
    "::1\n",
    "::@1\\",
    "1::2::3",
    "fe80::1%eth0",
    "spiffe://example.org/x",
    "spiffe://",
    "human",
    "robot",
    [],
    ["a"],
    [1],
    {},
    { extra: true },
  ),
  fc.anything({ maxDepth: 2 }),
);

/** The paths of a document's fields, objects and list items included. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...keys.flatMap((key) => paths((value as Record<string | number, unknown>)[key], [...prefix, key]))];
}

/** The document with `value` at `path` (or the field removed when value is undefined), or a field added. */
function broken(draft: unknown, pick: number, value: unknown, addKey: boolean): unknown {
  const copy = structuredClone(draft) as Record<string, unknown>;
  const all = paths(copy);
  const path = all[pick % all.length]!;
  if (path.length === 0) return addKey ? { ...copy, extra: value } : value;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
  const key = path[path.length - 1]!;
  if (addKey && typeof parent[key] === "object" && parent[key] !== null) (parent[key] as Record<string, unknown>).extra = value;
  else if (value === undefined) delete parent[key];
  else parent[key] = value;
  return copy;
}

describe("compiled checks answer as zod does", () => {
  it("for input documents, valid and broken", () => {
    const check = compileCheck(InputSchema, "input");
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(draft, pick, value, addKey) : draft;
        expect(check(doc), JSON.stringify(doc)).toBe(InputSchema.safeParse(doc).success);
      }),
      RUNS,
    );
  });

  it("for input documents through the engine's checked writer, which also writes what zod builds", () => {
    const write = compileInputWriter(jsonSchemaOf(InputSchema, "input"), { checked: true });
    const bytes = new Uint8Array(write.maxBytes);
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(draft, pick, value, addKey) : draft;
        const zod = InputSchema.safeParse(doc);
        const end = write(bytes, 0, doc);
        expect(end === INVALID, JSON.stringify(doc)).toBe(!zod.success);
        if (zod.success) expect(new TextDecoder().decode(bytes.subarray(0, end))).toBe(JSON.stringify(zod.data));
      }),
      RUNS,
    );
  });

  it("and the compiled path builds the same document zod does", () => {
    fc.assert(
      fc.property(inputDraftArb, (draft) => {
        expect(parseInput(draft)).toEqual(InputSchema.parse(draft));
      }),
      RUNS,
    );
  });

  it("for verdicts, valid and broken", async () => {
    const stepup = await testStepup();
    const check = compileCheck(VerdictSchema, "output");
    const verdicts = sampleInputs(5, 300).map((input) => JSON.parse(JSON.stringify(stepup.evaluate(input))) as unknown);
    fc.assert(
      fc.property(fc.constantFrom(...verdicts), fc.nat(), awkward, fc.boolean(), fc.boolean(), (verdict, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(verdict, pick, value, addKey) : verdict;
        expect(check(doc), JSON.stringify(doc)).toBe(VerdictSchema.safeParse(doc).success);
      }),
      RUNS,
    );
  });
});

describe("the config contract states what the policy relies on", () => {
  const valid = async () => ConfigSchema.parse(((await testStepup()).bundle.data as { stepup: { config: unknown } }).stepup.config);

  it("rejects thresholds that do not ascend", async () => {
    const config = await valid();
    const bad = { ...config, thresholds: { ...config.thresholds, standard: { medium: 50, high: 40, critical: 80 } } };
    expect(ConfigSchema.safeParse(bad).success).toBe(false);
  });

  it("rejects tier ranks other than their positions", async () => {
    const config = await valid();
    expect(ConfigSchema.safeParse({ ...config, tiers: { ...config.tiers, rank: { low: 0, standard: 2, high: 1, critical: 3 } } }).success).toBe(false);
  });
});
