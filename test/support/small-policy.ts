/**
 * Small policies for the tests of the bundle build's rewrites of OPA's runtime: compiled by the
 * pinned OPA, as built and as the bundle build optimizes them, and instantiated to be compared or
 * looked into.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readArchive } from "../../src/bundle/archive.js";
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import { optimizeWasm } from "../../src/wasm/rewrite/optimize.js";
import { OpaInstance } from "../../src/wasm/host.js";

/** `rego` compiled with one entrypoint per name: OPA's module as built, and optimized as bundles are. */
export async function compiledBothWays(rego: string, entrypoints: readonly string[]): Promise<{ asBuilt: Uint8Array; optimized: Uint8Array }> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-policy-"));
  try {
    await writeFile(join(dir, "policy.rego"), rego);
    await runTool(opaBinary(), ["build", "-t", "wasm", ...entrypoints.flatMap((e) => ["-e", e]), "-o", join(dir, "out.tar.gz"), join(dir, "policy.rego")]);
    const asBuilt = (await readArchive(await readFile(join(dir, "out.tar.gz")), "out.tar.gz")).get("policy.wasm")!;
    return { asBuilt, optimized: await optimizeWasm(asBuilt, "policy.wasm") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Our host on each module, with `data` loaded. */
export function hostsWith(modules: readonly Uint8Array[], data: unknown): OpaInstance[] {
  return modules.map((wasm) => {
    const host = OpaInstance.create(new WebAssembly.Module(wasm));
    host.setData(data);
    return host;
  });
}

/** A module instantiated with the imports OPA's modules ask for (any call out fails), to look at its memory. */
function bareInstance(wasm: Uint8Array): { memory: WebAssembly.Memory; exports: Record<string, (...args: number[]) => number> } {
  const memory = new WebAssembly.Memory({ initial: 5 });
  const fail = () => {
    throw new Error("the module called out");
  };
  const env = { memory, opa_abort: fail, opa_println: fail, opa_builtin0: fail, opa_builtin1: fail, opa_builtin2: fail, opa_builtin3: fail, opa_builtin4: fail };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env }).exports as Record<string, (...args: number[]) => number>;
  return { memory, exports };
}

/** What OPA's parser makes of `json` in `wasm`: the value's address, read through a DataView of the memory. */
export function parsedBy(wasm: Uint8Array, json: string): { value: number; view: DataView } {
  const { memory, exports } = bareInstance(wasm);
  const bytes = new TextEncoder().encode(json);
  const at = exports.opa_malloc!(bytes.length);
  new Uint8Array(memory.buffer).set(bytes, at);
  const value = exports.opa_value_parse!(at, bytes.length);
  return { value, view: new DataView(memory.buffer) };
}
