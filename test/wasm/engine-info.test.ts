/**
 * What the in-process engine says it runs (`Stepup.engineInfo`), its stock path (`fastPaths:
 * false`), and its fallbacks: where a fast path does not hold the engine takes OPA's stock road,
 * decides the same, and reports it once — as an event and through the metric
 * `stepup_engine_fallbacks_total`. The parity and conformance suites run both paths in full
 * (test/parity/, test/wasm/conformance.test.ts).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import parse from "parse-prometheus-text-format";
import { StepupMetrics } from "../../src/audit/metrics.js";
import { readArchive } from "../../src/bundle/archive.js";
import { compileWasm } from "../../src/bundle/build.js";
import { bundleFromFiles, loadBundle, type Bundle } from "../../src/bundle/load.js";
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import { DECISION_ENTRYPOINT } from "../../src/contracts/metadata.js";
import type { Input } from "../../src/contracts/input.js";
import type { EngineEvent } from "../../src/engine/inprocess/fallbacks.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { parseInput } from "../../src/input/validate.js";
import { Stepup } from "../../src/stepup.js";
import { sampleInputs } from "../support/arbitraries.js";
import { scenarios } from "../helpers.js";

let bundle: Bundle;
let corpus: Input[];
beforeAll(async () => {
  bundle = await loadBundle(inject("bundlePath"));
  corpus = [...(await scenarios()).map((s) => s.input), ...sampleInputs(20261207, 300)];
});

/** A Stepup on `b` whose engine events and metrics are collected. */
async function observed(b: Bundle, options: { fastPaths?: boolean } = {}) {
  const events: EngineEvent[] = [];
  const metrics = new StepupMetrics();
  const stepup = await Stepup.create(b, { ...options, onError: () => {}, onEngineEvent: (e) => (events.push(e), metrics.engineEvent(e)) });
  const counted = async () => {
    const family = parse(await metrics.text()).find((f) => f.name === "stepup_engine_fallbacks_total");
    return Object.fromEntries((family?.metrics ?? []).map((m) => [(m as { labels?: Record<string, string> }).labels?.fallback, Number((m as { value: string }).value)]));
  };
  return { stepup, events, counted };
}

describe("Stepup.engineInfo", () => {
  it("says which OPA compiled the module, the rewrites in it, and that inputs and results take the fast paths", async () => {
    const { stepup, events } = await observed(bundle);
    expect(stepup.engineInfo).toEqual({
      opaVersion: "1.22.3",
      optimizer: expect.stringMatching(/^binaryen \d+\.\d+\.\d+ -O2$/),
      rewrites: ["memo-table", "string-paths", "constant-keys", "parsed-integers", "iteration-cursor"],
      fastPaths: true,
      entrypoint: "stepup/packed",
      input: "values",
      result: "value-reader",
      fallbacks: [],
    });
    for (const input of corpus.slice(0, 50)) stepup.decide(input);
    expect(events).toEqual([]);
  });

  it("with fastPaths: false, says the stock path is in use, and decides as the fast paths do", async () => {
    const fast = await Stepup.create(bundle, { onError: () => {}, newId: () => "id" });
    const { stepup: stock, events } = await observed(bundle, { fastPaths: false });
    expect(stock.engineInfo).toMatchObject({ fastPaths: false, entrypoint: DECISION_ENTRYPOINT, input: "json", result: "json", fallbacks: [] });
    const fixedId = await Stepup.create(bundle, { onError: () => {}, newId: () => "id", fastPaths: false });
    for (const input of corpus) {
      expect(stock.evaluate(input)).toEqual(fast.evaluate(input));
      expect(fixedId.decide(input)).toEqual(fast.decide(input));
    }
    // A document that breaks the contract is refused the same way, naming the field.
    const broken = { ...corpus[0]!, now: "yesterday" };
    expect(() => fixedId.decide(broken as unknown)).toThrow(/now/);
    expect(() => fast.decide(broken as unknown)).toThrow(/now/);
    // The stock path is chosen, not a fallback: nothing is reported.
    expect(events).toEqual([]);
  });

  it("keeps the choice for bundles activated later, and its pool decides as it does", async () => {
    const { stepup: stock } = await observed(bundle, { fastPaths: false });
    await stock.activate(bundle);
    expect(stock.engineInfo).toMatchObject({ fastPaths: false, input: "json" });
    const pool = await stock.pool({ size: 1 });
    try {
      const decided = await pool.decideMany(corpus.slice(0, 20));
      expect(decided.map((d) => d.outcome)).toEqual(corpus.slice(0, 20).map((input) => stock.evaluate(input).outcome));
    } finally {
      await pool.close();
    }
  });
});

describe("the engine's fallbacks", () => {
  it("reports a module without the packed entrypoint once, as an event and a metric, and decides on the decision entrypoint", async () => {
    // The same policy as OPA builds it with only the decision entrypoint (as `opa build -e stepup/decision` would).
    const scratch = await mkdtemp(join(tmpdir(), "stepup-fallback-"));
    try {
      // The bundle's Rego and data compiled by the pinned OPA at the decision entrypoint alone, as
      // a bundle built without stepup's packed twin would be: its annotation as an entrypoint dropped.
      for (const [name, bytes] of bundle.files) {
        if (name === ".manifest" || name === "policy.wasm" || name === ".signatures.json") continue;
        const text = Buffer.from(bytes).toString("utf8");
        const plain = name === "stepup/packed.rego" ? text.replace("# entrypoint: true\npacked :=", "packed :=") : text;
        if (name === "stepup/packed.rego") expect(plain).not.toBe(text);
        await mkdir(dirname(join(scratch, name)), { recursive: true });
        await writeFile(join(scratch, name), plain);
      }
      const files = new Map(bundle.files);
      files.set("policy.wasm", await compileWasm(opaBinary(), scratch, [DECISION_ENTRYPOINT], ["envoy"]));
      const plain = bundleFromFiles(files, "decision-only");
      const { stepup, events, counted } = await observed(plain);
      const reference = await Stepup.create(bundle, { onError: () => {} });
      for (const input of corpus.slice(0, 40)) expect(stepup.evaluate(input)).toEqual(reference.evaluate(input));
      expect(stepup.engineInfo).toMatchObject({ entrypoint: DECISION_ENTRYPOINT, input: "values", fallbacks: ["packed-entrypoint"] });
      expect(events).toEqual([{ type: "fallback", fallback: "packed-entrypoint", message: expect.stringMatching(/no packed entrypoint/), revision: plain.revision }]);
      expect(await counted()).toEqual({ "packed-entrypoint": 1 });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it("reports an input the value writer does not take once, however often it comes, and still decides it", async () => {
    const { stepup, events, counted } = await observed(bundle);
    const valid = parseInput(corpus[0]);
    // Longer than the writers were compiled for: the contract bounds country by a pattern only.
    const long = { ...valid, geo: { ...valid.geo, country: "X".repeat(100) } } as Input;
    const first = stepup.decideInput(long);
    for (let i = 0; i < 5; i++) expect(stepup.decideInput(long)).toMatchObject({ outcome: first.outcome });
    expect(events.map((e) => e.fallback)).toEqual(["value-writer-input"]);
    expect(stepup.engineInfo?.fallbacks).toEqual(["value-writer-input"]);
    expect(await counted()).toEqual({ "value-writer-input": 1 });
    // The stock path takes the same input as JSON, as it takes every input, at stepup/decision,
    // which establishes the input itself: this document breaks the contract, so it is denied with
    // the field named, where the packed entrypoint trusts what decideInput was given.
    const { stepup: stock } = await observed(bundle, { fastPaths: false });
    expect(stock.evaluate(long)).toMatchObject({ outcome: "deny", reasons: ["input.invalid"], invalid_fields: ["geo.country"] });
    expect(stock.evaluate(valid)).toEqual(stepup.evaluate(valid));
  });

  it("reports a value reader the runtime cannot use (no Node Buffer) once, at load, and reads results through OPA's JSON", async () => {
    const events: EngineEvent[] = [];
    const reference = await Stepup.create(bundle, { onError: () => {} });
    const buffer = globalThis.Buffer;
    let engine: WasmEngine;
    try {
      // As in a runtime without Node's Buffer, which the reader decodes strings with.
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      engine = WasmEngine.fromModule(new WebAssembly.Module(bundle.wasm), bundle, { onEvent: (e) => events.push(e) });
    } finally {
      globalThis.Buffer = buffer;
    }
    expect(engine.info).toMatchObject({ fastPaths: true, input: "values", result: "json", fallbacks: ["value-reader"] });
    for (const input of corpus.slice(0, 40)) expect(engine.evaluate(input)).toEqual(reference.evaluate(input));
    expect(events.map((e) => e.fallback)).toEqual(["value-reader"]);
  });

  it("reports a result the value reader does not know once, and reads it through OPA's JSON", async () => {
    // An object with a number for a key: OPA's JSON writer gives the key as text; the reader leaves it to OPA.
    const dir = await mkdtemp(join(tmpdir(), "stepup-foreign-"));
    try {
      await writeFile(join(dir, "policy.rego"), 'package stepup\n\ndecision := {1: "one", "outcome": input.target.app}\n');
      await runTool(opaBinary(), ["build", "-t", "wasm", "-e", DECISION_ENTRYPOINT, "-o", join(dir, "out.tar.gz"), join(dir, "policy.rego")]);
      const wasm = (await readArchive(await readFile(join(dir, "out.tar.gz")), "out.tar.gz")).get("policy.wasm")!;
      const events: EngineEvent[] = [];
      const engine = WasmEngine.fromModule(new WebAssembly.Module(wasm), { source: "t", data: {}, entrypoint: DECISION_ENTRYPOINT, revision: "r" }, { onEvent: (e) => events.push(e) });
      const input = parseInput(corpus[0]);
      expect(engine.evaluate(input)).toEqual({ 1: "one", outcome: input.target.app });
      expect(engine.evaluate(input)).toEqual({ 1: "one", outcome: input.target.app });
      expect(events.map((e) => e.fallback)).toEqual(["packed-entrypoint", "value-reader-value"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
