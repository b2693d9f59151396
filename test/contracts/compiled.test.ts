/**
 * The compiled checks (the input contract's compiler, src/input/compile.ts, behind parseInput and
 * the engine's checked writer; ajv's standalone code for the verdict and the bundle manifest; all from the JSON Schema zod
 * generates) must
 * answer exactly as zod does: a check that accepted what zod rejects would let a bad document
 * reach the policy. fast-check breaks valid documents at random places with awkward values and
 * compares the answers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validate as verdictCheck } from "../../src/contracts/generated/verdict-check.js";
import { validate as manifestCheck } from "../../src/contracts/generated/manifest-check.js";
import { ManifestSchema } from "../../src/contracts/metadata.js";
import { compileNormalizer } from "../../src/input/compile.js";
import { ConfigSchema, meetsConfig } from "../../src/contracts/config.js";
import { VerdictSchema } from "../../src/contracts/decision.js";
import { InputSchema } from "../../src/contracts/input.js";
import { INVALID, jsonWriter } from "../../src/wasm/input-writer.js";
import { JSON_WRITERS } from "../../src/wasm/generated/json-writers.js";
import { inputJsonSchema, normalizeInput, parseInput } from "../../src/input/validate.js";
import { awkward, broken, inputDraftArb, sampleInputs } from "../support/arbitraries.js";
import { testStepup } from "../helpers.js";

const RUNS = { numRuns: 3000, seed: 9 };

describe("compiled checks answer as zod does", () => {
  it("for input documents, valid and broken, through the compiled check and normalizer, which also builds what zod builds", () => {
    const checkAndNormalize = compileNormalizer(inputJsonSchema("input"), { checked: true });
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(draft, pick, value, addKey) : draft;
        const zod = InputSchema.safeParse(doc);
        const normalized = checkAndNormalize(doc);
        expect(normalized !== INVALID, JSON.stringify(doc)).toBe(zod.success);
        if (zod.success) expect(normalized).toEqual(zod.data);
      }),
      RUNS,
    );
  });

  it("for input documents through the engine's checked writer, which also writes what zod builds", () => {
    // The writer the engine uses: generated ahead of time, the same code compileInputWriter compiles.
    const write = jsonWriter(JSON_WRITERS.checked);
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

  it("and the compiled path builds the same document zod does, as does the normalizer of checked documents", () => {
    fc.assert(
      fc.property(inputDraftArb, (draft) => {
        const zod = InputSchema.parse(draft);
        expect(parseInput(draft)).toEqual(zod);
        expect(normalizeInput(draft)).toEqual(zod);
      }),
      RUNS,
    );
  });

  it("for verdicts, valid and broken", async () => {
    const stepup = await testStepup();
    const check = (value: unknown) => verdictCheck(value) === true;
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

describe("the bundle manifest's compiled check answers as zod does", () => {
  it("for manifests, valid and broken, and fills in the defaults zod's output has", async () => {
    const { manifest } = (await testStepup()).bundle;
    const { revision: _, ...unrevised } = manifest;
    const manifests = [manifest, unrevised, { ...manifest, extra: { kept: true } }].map((m) => JSON.parse(JSON.stringify(m)) as unknown);
    fc.assert(
      fc.property(fc.constantFrom(...manifests), fc.nat(), awkward, fc.boolean(), fc.boolean(), (valid, pick, value, breakIt, addKey) => {
        // A manifest is always parsed from JSON text: so is each document here.
        const doc = JSON.parse(JSON.stringify(breakIt ? broken(valid, pick, value, addKey) : valid)) as unknown;
        const zod = ManifestSchema.safeParse(structuredClone(doc));
        // The check fills defaults into the document it is given, as into the loader's.
        expect(manifestCheck(doc) === true, JSON.stringify(doc)).toBe(zod.success);
        if (zod.success) expect(doc).toEqual(zod.data);
      }),
      RUNS,
    );
  });
});

describe("the tuning data's compiled check answers as zod does", () => {
  const config = async () => JSON.parse(JSON.stringify(((await testStepup()).bundle.data as { stepup: { config: unknown } }).stepup.config)) as Record<string, unknown>;

  it("for tuning data, valid and broken", async () => {
    const valid = await config();
    expect(meetsConfig(valid)).toBe(true);
    fc.assert(
      fc.property(fc.nat(), awkward, fc.boolean(), fc.boolean(), (pick, value, breakIt, addKey) => {
        // Tuning data is always parsed from JSON text: so is each document here.
        const doc = JSON.parse(JSON.stringify(breakIt ? broken(valid, pick, value, addKey) : valid)) as unknown;
        expect(meetsConfig(doc), JSON.stringify(doc)).toBe(ConfigSchema.safeParse(doc).success);
      }),
      RUNS,
    );
  });

  it("refuses thresholds out of order, keys outside the code pattern and own __proto__ keys", async () => {
    const valid = await config();
    const thresholds = valid.thresholds as Record<string, Record<string, number>>;
    const refused = [
      { ...valid, thresholds: { ...thresholds, standard: { medium: 50, high: 40, critical: 80 } } },
      { ...valid, thresholds: { ...thresholds, critical: { ...thresholds.critical, critical: 0 } } },
      { ...valid, weights: { ...(valid.weights as object), "Not.A.Code": 10 } },
      JSON.parse(JSON.stringify(valid).replace('"caps":{', '"caps":{"__proto__":{},')) as unknown,
    ];
    for (const doc of refused) {
      expect(ConfigSchema.safeParse(doc).success).toBe(false);
      expect(meetsConfig(doc)).toBe(false);
    }
    // zod's records skip a "__proto__" key; the compiled check refuses it, and the loader then
    // takes zod's answer (test/bundle has the load): never the other way round.
    const protoKey = JSON.parse(JSON.stringify(valid).replace('"weights":{', '"weights":{"__proto__":10,')) as unknown;
    expect(meetsConfig(protoKey)).toBe(false);
    expect(ConfigSchema.safeParse(protoKey).success).toBe(true);
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
