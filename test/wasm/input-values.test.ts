/**
 * The input written as OPA's values (input-writer.ts compiled with the host's value form), which
 * spares the policy parsing it: to OPA it must be exactly the document its own parser builds from
 * the input's JSON — the same values, each object's keys bucketed and chained the same way, so the
 * same order wherever the policy iterates — and the checked writer must answer exactly as the
 * JSON writer does, for documents valid and broken.
 */
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonSchemaOf } from "../../src/contracts/compiled.js";
import { InputSchema, type Input } from "../../src/contracts/input.js";
import { OpaInstance } from "../../src/wasm/host.js";
import { compileInputWriter, INVALID, longestList, probeDocument, TOO_LONG, valueWriterOf, type InputWriter, type ValueForm } from "../../src/wasm/input-writer.js";
import { PROBES, VALUE_WRITERS } from "../../src/wasm/generated/value-writers.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { EngineEvaluationError } from "../../src/errors.js";
import { awkward, broken, inputDraftArb, largestInput, oddInput, sampleInputs } from "../support/arbitraries.js";
import { scenarios, testStepup } from "../helpers.js";

const output = jsonSchemaOf(InputSchema, "output");
const input = jsonSchemaOf(InputSchema, "input");

let host: OpaInstance;
let form: ValueForm;
let values: { input: InputWriter; checked: InputWriter };
let corpus: Input[];
beforeAll(async () => {
  const { bundle } = await testStepup();
  host = OpaInstance.create(new WebAssembly.Module(bundle.wasm), { rewrites: bundle.metadata.wasm.rewrites });
  host.setData(bundle.data);
  form = host.valueForm(longestList(output));
  values = { input: compileInputWriter(output, { values: form }), checked: compileInputWriter(input, { checked: true, values: form }) };
  host.reserveInput(Math.max(values.input.maxBytes, values.checked.maxBytes));
  corpus = [...(await scenarios()).map((s) => s.input), ...sampleInputs(20261130, 1500)];
});

/** JSON escapes a lone surrogate (\udXXX); a well-formed string's characters go as they are. */
const hasLoneSurrogate = (doc: unknown) => /\\ud[89a-f][0-9a-f]{2}/i.test(JSON.stringify(doc));

describe("the input written as OPA's values", () => {
  it("is, to OPA, the document its parser builds from the input's JSON, for every input of the parity corpus", () => {
    for (const doc of corpus) expect(host.writesAsParsed(values.input, doc, JSON.stringify(doc)), JSON.stringify(doc)).toBe(true);
    // The probe the engine proves a form with, too: every object and list present, odd strings.
    expect(host.writesAsParsed(values.input, probeDocument(output), JSON.stringify(probeDocument(output)))).toBe(true);
  });

  it("checked, answers as the JSON writer does and writes the same document, valid or broken", () => {
    const json = compileInputWriter(input, { checked: true });
    const bytes = new Uint8Array(json.maxBytes);
    let written = 0;
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(draft, pick, value, addKey) : draft;
        const end = json(bytes, 0, doc);
        const valueEnd = host.writeValueInput(values.checked, doc);
        expect(valueEnd === INVALID, JSON.stringify(doc)).toBe(end === INVALID);
        if (end === INVALID) return;
        // A lone surrogate has no UTF-8: the value writer leaves that document to the JSON path.
        if (valueEnd === TOO_LONG) return expect(hasLoneSurrogate(doc)).toBe(true);
        expect(host.writesAsParsed(values.checked, doc, new TextDecoder().decode(bytes.subarray(0, end))), JSON.stringify(doc)).toBe(true);
        written++;
      }),
      { numRuns: 2000, seed: 11 },
    );
    expect(written).toBeGreaterThan(500);
  });

  it("checked, reads the caller's document into the input zod builds from it", () => {
    let copied = 0;
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        const doc = breakIt ? broken(draft, pick, value, addKey) : draft;
        if (host.writeValueInput(values.checked, doc) < 0) return;
        const copy = values.checked.document!();
        expect(copy, JSON.stringify(doc)).toEqual(InputSchema.parse(doc));
        // A copy: nothing in it is the caller's object or list.
        expect((copy as Input).subject).not.toBe((doc as Input).subject);
        expect((copy as Input).subject.roles).not.toBe((doc as Input).subject.roles);
        copied++;
      }),
      { numRuns: 2000, seed: 12 },
    );
    expect(copied).toBeGreaterThan(500);
  });

  it("writes multi-byte, escaped and control characters as OPA's parser decodes them", () => {
    const odd = oddInput();
    expect(host.writesAsParsed(values.input, odd, JSON.stringify(odd))).toBe(true);
    expect(host.writeValueInput(values.input, { ...odd, subject: { ...odd.subject, id: "a\ud800b" } })).toBe(TOO_LONG);
  });

  it("fits the largest document the contract allows in maxBytes", () => {
    const largest = largestInput("😀"); // four bytes of UTF-8 each
    // The writer alone, into exactly maxBytes (of memory in whole 32-bit words, as the module's is): it must end inside it.
    const end = values.input(new Uint8Array(new ArrayBuffer(Math.ceil(values.input.maxBytes / 4) * 4), 0, values.input.maxBytes), 0, largest);
    expect(end).toBeGreaterThan(0);
    expect(end).toBeLessThanOrEqual(values.input.maxBytes);
    expect(host.writesAsParsed(values.input, largest, JSON.stringify(largest))).toBe(true);
  });

  it("generated ahead of time and filled in with the instance's form, is the writer compiled from the contract for it", () => {
    // The templates the engine fills in (src/wasm/generated/value-writers.ts), on the same form.
    const filled = { input: valueWriterOf(VALUE_WRITERS.input, form), checked: valueWriterOf(VALUE_WRITERS.checked, form) };
    expect([filled.input.maxBytes, filled.checked.maxBytes]).toEqual([values.input.maxBytes, values.checked.maxBytes]);
    expect(Math.max(VALUE_WRITERS.input.longestList, VALUE_WRITERS.checked.longestList)).toBe(longestList(output));
    const size = Math.ceil((Math.max(values.input.maxBytes, values.checked.maxBytes) + 8) / 4) * 4;
    const [ours, compiled] = [new Uint8Array(new ArrayBuffer(size)), new Uint8Array(new ArrayBuffer(size))];
    const same = (kind: "input" | "checked", doc: unknown) => {
      ours.fill(0);
      compiled.fill(0);
      const end = filled[kind](ours, 8, doc);
      expect(end, JSON.stringify(doc)).toBe(values[kind](compiled, 8, doc));
      if (end > 0) expect(Buffer.from(ours.subarray(0, end)).equals(compiled.subarray(0, end)), JSON.stringify(doc)).toBe(true);
      if (kind === "checked" && end >= 0) expect(filled.checked.document!()).toEqual(values.checked.document!());
    };
    for (const doc of [...corpus.slice(0, 200), PROBES.full, largestInput("é"), oddInput()]) same("input", doc);
    fc.assert(
      fc.property(inputDraftArb, fc.nat(), awkward, fc.boolean(), fc.boolean(), (draft, pick, value, breakIt, addKey) => {
        same("checked", breakIt ? broken(draft, pick, value, addKey) : draft);
      }),
      { numRuns: 500, seed: 30 },
    );
  });

  it("learns every object's layout and key in one parse as it does one object and key at a time", async () => {
    const { bundle } = await testStepup();
    const twin = () => {
      const instance = OpaInstance.create(new WebAssembly.Module(bundle.wasm), { rewrites: bundle.metadata.wasm.rewrites });
      instance.setData(bundle.data);
      return instance.valueForm(longestList(output));
    };
    const [prepared, single] = [twin(), twin()];
    const objects = [...VALUE_WRITERS.input.objects, ...VALUE_WRITERS.checked.objects].map(({ keys }) => keys);
    prepared.prepare!(objects);
    for (const keys of objects) {
      expect(prepared.layout(keys), keys.join()).toEqual(single.layout(keys));
      // In the same order on twin instances, each key's address is the same: the module's constant, or a string placed after the data.
      for (const key of keys) expect(prepared.key(key), key).toBe(single.key(key));
    }
  });

  it("is caught before use when the writer does not bucket keys as OPA does", () => {
    // The same form, but every object's keys in one chain, in the schema's order.
    const wrong: ValueForm = { ...form, key: form.key, layout: (keys) => ({ buckets: 8, chains: [keys.map((_, i) => i)] }) };
    const writer = compileInputWriter(output, { values: wrong });
    const doc = corpus[0]!;
    // Still a well-formed object to OPA, with the same values, but walked in another order.
    expect(host.writesAsParsed(writer, doc, JSON.stringify(doc))).toBe(false);
  });
});

describe("the in-process engine", () => {
  it("writes inputs as OPA's values on the bundle's module, and decides as through JSON", async () => {
    const { bundle } = await testStepup();
    const engine = await WasmEngine.load(bundle);
    expect(engine.writesValues).toBe(true);
    const json = await WasmEngine.load(bundle);
    // The same engine, made to write JSON for OPA to parse.
    Object.defineProperty(json, "values", { value: undefined });
    expect(json.writesValues).toBe(false);
    for (const doc of corpus.slice(0, 400)) {
      expect(engine.evaluate(doc)).toEqual(json.evaluate(doc));
      const values = engine.takeChecked(doc);
      const text = json.takeChecked(doc);
      expect(values?.evaluate).toBeTypeOf("function");
      expect(text?.evaluate).toBeTypeOf("function");
      expect(values!.evaluate()).toEqual(text!.evaluate());
    }
  });

  it("leaves a document with a lone surrogate to OPA's parser, which refuses it as it refuses the stock SDK's", async () => {
    const { bundle } = await testStepup();
    const engine = await WasmEngine.load(bundle);
    const stock = await loadPolicy(bundle.wasm);
    stock.setData(bundle.data);
    const doc = { ...corpus[0]!, subject: { ...corpus[0]!.subject, id: "user\ud800" } };
    expect(() => stock.evaluate(doc, "stepup/decision")).toThrow(/illegal string escape character/);
    expect(engine.takeChecked(doc)).toBeUndefined();
    expect(() => engine.evaluate(doc)).toThrow(EngineEvaluationError);
    expect(() => engine.evaluate(doc)).toThrow(/illegal string escape character/);
  });
});
