/**
 * Our host over OPA's wasm ABI against the stock SDK (@open-policy-agent/opa-wasm) on the same
 * module, data and inputs; the compiled input writer against JSON.stringify; and the host's
 * answers to modules and inputs it must refuse or survive.
 */
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readArchive } from "../../src/bundle/archive.js";
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import { jsonSchemaOf } from "../../src/contracts/compiled.js";
import { InputSchema, type Input } from "../../src/contracts/input.js";
import { OpaInstance } from "../../src/wasm/host.js";
import { compileInputWriter } from "../../src/wasm/input-writer.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { BundleInvalidError, EngineEvaluationError } from "../../src/errors.js";
import { parseInput } from "../../src/input/validate.js";
import { largestInput, oddInput, sampleInputs } from "../support/arbitraries.js";
import { scenarios, testStepup } from "../helpers.js";

/** Compiles a small policy to wasm with the pinned OPA. */
async function compile(rego: string, entrypoint: string): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-host-"));
  try {
    await writeFile(join(dir, "policy.rego"), rego);
    await runTool(opaBinary(), ["build", "-t", "wasm", "-e", entrypoint, "-o", join(dir, "out.tar.gz"), join(dir, "policy.rego")]);
    const files = await readArchive(await readFile(join(dir, "out.tar.gz")), "out.tar.gz");
    return files.get("policy.wasm")!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let corpus: Input[];
beforeAll(async () => {
  corpus = [...(await scenarios()).map((s) => s.input), ...sampleInputs(20261128, 1500)];
});

describe("our host and the stock SDK", () => {
  it("give the same result set for every input of the parity corpus", async () => {
    const { bundle } = await testStepup();
    const host = OpaInstance.create(new WebAssembly.Module(bundle.wasm));
    host.setData(bundle.data);
    const stock = await loadPolicy(bundle.wasm);
    stock.setData(bundle.data);
    // Every entrypoint of the module: the packed one the SDK uses and the decision document.
    expect(Object.keys(host.entrypoints).sort()).toEqual(["stepup/decision", "stepup/packed"]);
    for (const [name, entrypoint] of Object.entries(host.entrypoints)) {
      for (const input of corpus) {
        expect(host.evaluate(JSON.stringify(input), entrypoint)).toEqual(stock.evaluate(input, name));
      }
    }
  });
});

describe("the compiled input writer", () => {
  const write = compileInputWriter(jsonSchemaOf(InputSchema, "output"));
  const bytes = new Uint8Array(write.maxBytes);
  const text = (input: Input) => new TextDecoder().decode(bytes.subarray(0, write(bytes, 0, input)));

  it("writes what JSON.stringify writes, for every input of the parity corpus", () => {
    for (const input of corpus) expect(text(input)).toBe(JSON.stringify(input));
  });

  it("escapes and encodes what is not plain ASCII", () => {
    const odd = oddInput();
    expect(text(odd)).toBe(JSON.stringify(odd));
    expect(JSON.parse(text(odd))).toEqual(odd);
  });

  it("fits the largest document the contract allows in maxBytes", () => {
    const largest = largestInput("\u0001"); // six bytes each once escaped
    const end = write(bytes, 0, largest);
    expect(end).toBeGreaterThan(0);
    expect(end).toBeLessThanOrEqual(write.maxBytes);
  });

  it("gives up (-1) rather than overrun on a string the schema does not bound", () => {
    const unchecked = { ...parseInput(corpus[0]), geo: { country: "X".repeat(100), lat: null, lon: null, accuracy_km: null, distance_km: null, previous: null } };
    expect(write(bytes, 0, unchecked as Input)).toBe(-1);
  });
});

describe("the in-process engine", () => {
  it("reads the packed twin of the decision when the module has it, and the same verdict comes out", async () => {
    const { bundle } = await testStepup();
    const engine = await WasmEngine.load(bundle);
    const stock = await loadPolicy(bundle.wasm);
    stock.setData(bundle.data);
    for (const input of corpus.slice(0, 200)) {
      const [{ result }] = stock.evaluate(input, "stepup/decision") as [{ result: unknown }];
      expect(engine.evaluate(input)).toEqual(result);
    }
  });

  it("evaluates the entrypoint the bundle names when the module has no packed twin", async () => {
    const wasm = await compile('package stepup\n\ndecision := {"outcome": "allow", "app": input.target.app}\n', "stepup/decision");
    const engine = WasmEngine.fromModule(new WebAssembly.Module(wasm), { source: "t", data: {}, entrypoint: "stepup/decision", revision: "r" });
    expect(engine.evaluate(corpus[0]!)).toEqual({ outcome: "allow", app: corpus[0]!.target.app });
  });
});

describe("the host", () => {
  it("refuses a module that calls builtins it does not provide, naming them", async () => {
    const wasm = await compile('package t\n\nx := sprintf("%d", [input.n])\n', "t/x");
    expect(() => OpaInstance.create(new WebAssembly.Module(wasm))).toThrow(BundleInvalidError);
    expect(() => OpaInstance.create(new WebAssembly.Module(wasm))).toThrow(/builtins this engine does not provide: sprintf/);
    const withSprintf = OpaInstance.create(new WebAssembly.Module(wasm), {
      builtins: { sprintf: (format, args) => String(format).replace("%d", String((args as number[])[0])) },
    });
    expect(withSprintf.evaluate(JSON.stringify({ n: 7 }), 0)).toEqual([{ result: "7" }]);
  });

  it("refuses a module without the ABI's functions, naming them", async () => {
    const { default: binaryen } = await import("binaryen");
    const wasm = await compile("package t\n\nx := 1\n", "t/x");
    const module = binaryen.readBinary(wasm);
    module.removeExport("opa_value_parse");
    module.removeExport("opa_eval_ctx_new");
    const stripped = module.emitBinary();
    module.dispose();
    expect(() => OpaInstance.create(new WebAssembly.Module(stripped))).toThrow(BundleInvalidError);
    expect(() => OpaInstance.create(new WebAssembly.Module(stripped))).toThrow(/lacks functions of OPA's wasm ABI: opa_eval_ctx_new, opa_value_parse$/);
  });

  it("turns an abort inside the policy into an evaluation error with OPA's message", async () => {
    const wasm = await compile("package t\n\nx := 1 if input.a\n\nx := 2 if input.b\n", "t/x");
    const host = OpaInstance.create(new WebAssembly.Module(wasm));
    expect(host.evaluate(JSON.stringify({ a: true }), 0)).toEqual([{ result: 1 }]);
    expect(() => host.evaluate(JSON.stringify({ a: true, b: true }), 0)).toThrow(EngineEvaluationError);
    // The heap is reset per evaluation, so the instance keeps working after an abort.
    expect(host.evaluate(JSON.stringify({ b: true }), 0)).toEqual([{ result: 2 }]);
  });

  it("grows its memory for an input larger than it has", async () => {
    const wasm = await compile("package t\n\nx := count(input.items)\n", "t/x");
    const host = OpaInstance.create(new WebAssembly.Module(wasm));
    const items = Array.from({ length: 200_000 }, (_, i) => `item-${i}`);
    expect(host.evaluate(JSON.stringify({ items }), 0)).toEqual([{ result: 200_000 }]);
    expect(host.evaluateBytes(new TextEncoder().encode(JSON.stringify({ items: [1, 2] })), 0)).toEqual("[{\"result\":2}]");
  });
});
