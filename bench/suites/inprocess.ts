/**
 * In-process decisions, side by side in one interleaved run on the same wasm and inputs:
 *   - the floor: `opa_eval` alone on input already in the module's memory (no SDK work at all);
 *   - the same evaluation without OPA's JSON of the result (decide reads the result from memory,
 *     src/wasm/value-reader.ts): how much of the floor is writing the result out;
 *   - the policy evaluated as decide evaluates it: the input written as OPA's values (no parsing in
 *     the module, src/wasm/input-writer.ts), the result left in memory: decide over this is the
 *     SDK's own share (checking the input, reading and checking the verdict, rendering);
 *   - stepup's decide: input validation, the input written into memory, the evaluation, the
 *     verdict read from memory and validated, the decision rendered;
 *   - the stock @open-policy-agent/opa-wasm `evaluate()`: JSON in, JSON out, nothing validated;
 *   - `opa_eval` of an empty policy on the same inputs: what OPA's runtime costs before any rule
 *     runs (copying and parsing the input, writing a result), so that the floor splits into the
 *     runtime's share and the policy's own;
 *   - the floor again on OPA's module as `opa build` wrote it, before binaryen's optimizer: what
 *     the bundle builder's optimization buys.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { DECISION_ENTRYPOINT, PACKED_ENTRYPOINT } from "../../src/contracts/metadata.js";
import { compileWasm } from "../../src/bundle/build.js";
import { loadBundle } from "../../src/bundle/load.js";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { optimizeWasm, optimizerName } from "../../src/wasm/rewrite/optimize.js";
import { jsonSchemaOf } from "../../src/contracts/compiled.js";
import { InputSchema } from "../../src/contracts/input.js";
import { OpaInstance } from "../../src/wasm/host.js";
import { compileInputWriter, longestList } from "../../src/wasm/input-writer.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { Stepup } from "../../src/stepup.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

const suite: Suite = {
  name: "in-process",
  async run(ctx) {
    let failures = 0;
    const bundle = await loadBundle(ctx.bundlePath);
    // One compiled module for all three, so that V8's tiering (per module) treats them alike.
    const module = await WebAssembly.compile(bundle.wasm);
    const stepup = new Stepup(bundle, WasmEngine.fromModule(module, bundle), { onError: () => failures++ });
    const floorHost = OpaInstance.create(module);
    floorHost.setData(bundle.data);
    // The floor evaluates what decide evaluates: the packed decision.
    const entrypoint = floorHost.entrypoints[PACKED_ENTRYPOINT]!;
    const encoder = new TextEncoder();
    const serialized = ctx.corpus.map((input) => encoder.encode(JSON.stringify(input)));
    const stock = await loadPolicy(module);
    stock.setData(bundle.data);
    const raw = ctx.corpus.map((input) => JSON.parse(JSON.stringify(input)) as unknown);
    const asBuilt = await loadBundle(ctx.asBuiltBundlePath);
    const asBuiltHost = OpaInstance.create(await WebAssembly.compile(asBuilt.wasm));
    asBuiltHost.setData(asBuilt.data);
    const asBuiltEntrypoint = asBuiltHost.entrypoints[PACKED_ENTRYPOINT]!;
    const empty = OpaInstance.create(await WebAssembly.compile(await emptyPolicy()));
    empty.setData({});
    const emptyEntrypoint = empty.entrypoints[PACKED_ENTRYPOINT]!;
    const nextSerialized = cycle(serialized);
    const nextEmpty = cycle(serialized);
    const nextAsBuilt = cycle(serialized);
    const nextInPlace = cycle(serialized);
    // decide's own evaluation: its writer of OPA's values, compiled for this host, on the same inputs.
    const output = jsonSchemaOf(InputSchema, "output");
    // With the rewrites the module was built with, as the engine's host has them (constant keys).
    const valueHost = OpaInstance.create(module, { rewrites: bundle.metadata.wasm.rewrites });
    valueHost.setData(bundle.data);
    const writeValues = compileInputWriter(output, { values: valueHost.valueForm(longestList(output)) });
    valueHost.reserveInput(writeValues.maxBytes);
    const nextAsValues = cycle(ctx.corpus);
    for (const [i, input] of ctx.corpus.entries()) {
      const end = valueHost.writeValueInput(writeValues, input);
      const same = end >= 0 && JSON.stringify(valueHost.evaluateValueInput(end, entrypoint)) === floorHost.evaluateBytes(serialized[i]!, entrypoint);
      if (!same) throw new Error(`input ${i} of the corpus: written as OPA's values, it does not evaluate as its JSON does`);
    }
    const nextRaw = cycle(raw);
    const nextInput = cycle(ctx.corpus);
    const [floor, inPlace, asValues, decide, stockEvaluate, stockPacked, fixed, unoptimized] = await measure(
      {
        "opa_eval alone on pre-serialized input: the floor": () => floorHost.evaluateRaw(nextSerialized(), entrypoint),
        "the same without OPA's JSON of the result (eval through the ABI's context)": () => floorHost.evaluateRawValue(nextInPlace(), entrypoint),
        "the policy as decide evaluates it: input written as OPA's values, result unread": () =>
          valueHost.evaluateValueRaw(valueHost.writeValueInput(writeValues, nextAsValues()), entrypoint),
        "stepup decide (validation + render)": () => stepup.decide(nextRaw()),
        "opa-wasm evaluate() (stock, no validation) of stepup/decision": () => stock.evaluate(nextInput(), DECISION_ENTRYPOINT),
        "opa-wasm evaluate() (stock) of stepup/packed, for reference": () => stock.evaluate(nextInput(), PACKED_ENTRYPOINT),
        "opa_eval of an empty policy, same input: OPA's runtime alone": () => empty.evaluateRaw(nextEmpty(), emptyEntrypoint),
        "opa_eval alone, OPA's module before binaryen's optimizer": () => asBuiltHost.evaluateRaw(nextAsBuilt(), asBuiltEntrypoint),
      },
      ctx,
      // Short rounds, many of them: the ratios here are the suite's point.
      ctx.quick ? {} : { time: 3_000, rounds: 20 },
    );
    if (!floor || !inPlace || !asValues || !decide || !stockEvaluate || !stockPacked || !fixed || !unoptimized) throw new Error("missing measurement");
    if (failures > 0) throw new Error(`${failures} decisions failed closed during the run; the figures would be void`);
    return {
      suite: "in-process",
      measurements: [floor, inPlace, asValues, decide, stockEvaluate, stockPacked, fixed, unoptimized],
      ratios: [
        ratio("decide / floor (median)", decide.median_us / floor.median_us, { text: "≤ 1.5", met: (v) => v <= 1.5 }),
        ratio("decide / stock evaluate (median)", decide.median_us / stockEvaluate.median_us, { text: "< 1", met: (v) => v < 1 }),
        ratio("floor median, µs", floor.median_us, { text: "≤ 15", met: (v) => v <= 15 }),
        ratio("decide / the policy as decide evaluates it (median): the SDK's own share", decide.median_us / asValues.median_us),
        ratio("the policy as decide evaluates it / floor (median): what OPA's parsing of the input and JSON of the result cost", asValues.median_us / floor.median_us),
        ratio("the policy's own share of the floor (floor − empty policy), µs", floor.median_us - fixed.median_us),
        ratio("floor / floor on OPA's module before binaryen (median)", floor.median_us / unoptimized.median_us, { text: "< 1", met: (v) => v < 1 }),
      ],
      notes: [
        `corpus: the ${ctx.corpus.length} scenario inputs, one per call in turn; the floor copies each input's JSON bytes into memory and calls opa_eval, leaving the result unread`,
        "the empty policy is `package stepup` with `packed := []`, built by the same pinned OPA and optimized as bundles are: its opa_eval copies and parses the same input, evaluates nothing and writes `[{\"result\":[]}]`",
        `the bundle's module is OPA's (OPA ${bundle.metadata.wasm.opa_version}), with the rewrites ${(bundle.metadata.wasm.rewrites ?? []).join(", ")} and optimized by ${optimizerName()} when the bundle is built (src/wasm/rewrite/optimize.ts); the last row runs OPA's module as \`opa build\` wrote it, with the same data and inputs`,
        `decide and the floor evaluate ${PACKED_ENTRYPOINT} (the decision packed into an array) with our own host over OPA's wasm ABI: the floor with \`opa_eval\`, which also writes the result as JSON; decide through the ABI's evaluation context (\`eval\`), on the input written as OPA's values instead of JSON for OPA to parse (src/wasm/input-writer.ts), reading the result from memory instead of OPA's JSON (src/wasm/value-reader.ts); the stock SDK runs the same module with the same data, at ${DECISION_ENTRYPOINT} as its users would, and at ${PACKED_ENTRYPOINT} for reference`,
      ],
    };
  },
};

export default suite;

/**
 * `package stepup` with `packed := []`, compiled by the pinned OPA and optimized as bundles are: the
 * same runtime and the same entrypoint name as the real module, and no rules to run.
 */
async function emptyPolicy(): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-empty-"));
  try {
    await writeFile(join(dir, "empty.rego"), "package stepup\n\npacked := []\n");
    return await optimizeWasm(await compileWasm(opaBinary(), dir, [PACKED_ENTRYPOINT]), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
