/**
 * Binaryen's optimizer in the bundle build: the bundle's module answers every input of the parity
 * corpus exactly as OPA's module does, at both entrypoints, and keeps OPA's ABI; the manifest says
 * which optimizer rewrote it; a module it cannot take is refused with a typed error. OPA's own
 * conformance cases run on optimized modules in test/wasm/conformance.test.ts.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadBundle, type Bundle } from "../../../src/bundle/load.js";
import { opaBinary, PINNED_OPA_VERSION } from "../../../src/bundle/opa-cli.js";
import { optimizeWasm, optimizerName } from "../../../src/wasm/rewrite/optimize.js";
import type { Input } from "../../../src/contracts/input.js";
import { OpaInstance } from "../../../src/wasm/host.js";
import { BundleInvalidError } from "../../../src/errors.js";
import { sampleInputs } from "../../support/arbitraries.js";
import { runCli, scenarios, testStepup } from "../../helpers.js";

let scratch: string;
let asBuilt: Bundle;
let optimized: Bundle;
let corpus: Input[];
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-optimize-"));
  // Through the CLI's flag, as an operator would turn the optimizer off.
  const out = join(scratch, "as-built.tar.gz");
  const build = await runCli(["bundle", "build", "--rego", "rego", "--out", out, "--revision", "as-built", "--no-optimize"]);
  expect(build.stderr).toBe("");
  asBuilt = await loadBundle(out);
  optimized = (await testStepup()).bundle;
  corpus = [...(await scenarios()).map((s) => s.input), ...sampleInputs(20261129, 2000)];
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// WebAssembly.Module's static reflection, which this project's TypeScript libs leave out.
const reflect = WebAssembly.Module as unknown as Record<"exports" | "imports", (module: WebAssembly.Module) => { module?: string; name: string; kind: string }[]>;

/** A module's exports or imports as sorted `[module.]name:kind` strings. */
function surface(wasm: Uint8Array, side: "exports" | "imports"): string[] {
  return reflect[side](new WebAssembly.Module(wasm))
    .map((e) => `${e.module === undefined ? "" : `${e.module}.`}${e.name}:${e.kind}`)
    .sort();
}

describe("the bundle's optimized module", () => {
  it("is not OPA's module as built, and the manifest names the OPA that compiled it, the optimizer and the rewrites", () => {
    expect(Buffer.compare(Buffer.from(optimized.wasm), Buffer.from(asBuilt.wasm))).not.toBe(0);
    expect(optimized.metadata.wasm.optimizer).toBe(optimizerName());
    expect(optimizerName()).toMatch(/^binaryen \d+\.\d+\.\d+ -O2$/);
    expect(optimized.metadata.wasm.rewrites).toEqual(["memo-table", "string-paths", "constant-keys", "parsed-integers", "iteration-cursor"]);
    expect(optimized.metadata.wasm.opa_version).toBe(PINNED_OPA_VERSION);
    expect(asBuilt.metadata.wasm.optimizer).toBeUndefined();
    expect(asBuilt.metadata.wasm.rewrites).toEqual([]);
    expect(asBuilt.metadata.wasm.opa_version).toBe(PINNED_OPA_VERSION);
  });

  it("keeps OPA's exports, and imports nothing OPA's module does not", () => {
    expect(surface(optimized.wasm, "exports")).toEqual(surface(asBuilt.wasm, "exports"));
    const before = surface(asBuilt.wasm, "imports");
    const after = surface(optimized.wasm, "imports");
    // The builtin dispatchers (opa_builtin0…4) go when nothing calls them: this policy calls no
    // JavaScript builtin, as the design asks.
    expect(after.filter((i) => !before.includes(i))).toEqual([]);
    expect(after).toEqual(expect.arrayContaining(["env.memory:memory", "env.opa_abort:function"]));
    expect(after.filter((i) => i.startsWith("env.opa_builtin"))).toEqual([]);
  });

  it("gives OPA's module's result set for every input of the parity corpus, at both entrypoints", () => {
    const hosts = [asBuilt, optimized].map((bundle) => {
      const host = OpaInstance.create(new WebAssembly.Module(bundle.wasm));
      host.setData(bundle.data);
      return host;
    });
    const [before, after] = hosts as [OpaInstance, OpaInstance];
    expect(Object.keys(after.entrypoints).sort()).toEqual(Object.keys(before.entrypoints).sort());
    let compared = 0;
    for (const name of Object.keys(before.entrypoints)) {
      for (const input of corpus) {
        const text = JSON.stringify(input);
        expect(after.evaluateText(text, after.entrypoints[name]!), name).toBe(before.evaluateText(text, before.entrypoints[name]!));
        compared++;
      }
    }
    expect(compared).toBe(2 * corpus.length);
  });
});

describe("optimizeWasm", () => {
  it("refuses bytes that are not a wasm module, naming where they came from", async () => {
    const err = await optimizeWasm(new TextEncoder().encode("not wasm"), "rego/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleInvalidError);
    expect(err).toMatchObject({ code: "ERR_BUNDLE_INVALID", path: "rego/" });
    expect((err as Error).message).toMatch(/does not compile/);
  });

  it("refuses a module that needs more than WebAssembly 1.0 rather than optimizing it blind", async () => {
    // (module (func (param i32) (result i32) local.get 0 i32.extend8_s)): a sign-extension op.
    const signExt = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x07, 0x01, 0x05, 0x00,
      0x20, 0x00, 0xc0, 0x0b,
    ]);
    const err = await optimizeWasm(signExt, "custom.wasm").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleInvalidError);
    expect((err as Error).message).toMatch(/WebAssembly 1\.0 \(MVP\)/);
  });

  it("refuses a module without OPA's memo rather than guessing how it memoizes", async () => {
    // (module (func)): valid WebAssembly 1.0, but no opa_memoize_init, which OPA's eval always calls.
    const empty = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    const err = await optimizeWasm(empty, "custom.wasm").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleInvalidError);
    expect(err).toMatchObject({ code: "ERR_BUNDLE_INVALID", path: "custom.wasm" });
    expect((err as Error).message).toMatch(/no opa_memoize_init.*--optimize=o2/);
  });
});

describe("stepup bundle build where binaryen is not installed (an optional peer dependency)", () => {
  it("says how to install it, and builds OPA's module as is with --no-optimize", async () => {
    // The CLI as built, beside a node_modules holding every installed package but binaryen.
    const root = join(scratch, "no-binaryen");
    await mkdir(join(root, "node_modules"), { recursive: true });
    for (const name of await readdir("node_modules")) {
      if (name !== "binaryen" && name !== ".bin") await symlink(resolve("node_modules", name), join(root, "node_modules", name));
    }
    await copyFile(inject("cliPath"), join(root, "cli.js"));
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [join(root, "cli.js"), "bundle", "build", "--rego", resolve("rego"), ...args], {
        env: { ...process.env, STEPUP_OPA: resolve(opaBinary()) },
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
      );
    const refused = await run(["--out", join(root, "optimized.tar.gz")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/binaryen failed: not installed: `npm install binaryen@\^132`.*--no-optimize/);
    const plain = await run(["--out", join(root, "plain.tar.gz"), "--no-optimize"]);
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    const bundle = await loadBundle(join(root, "plain.tar.gz"));
    expect(bundle.metadata.wasm.optimizer).toBeUndefined();
    expect(Buffer.compare(Buffer.from(bundle.wasm), Buffer.from(asBuilt.wasm))).toBe(0);
  });
});
