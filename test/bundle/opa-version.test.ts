/**
 * The bundle build and the OPA that compiles the policy: the pinned version by default; another
 * refused unless allowed; and built with an OPA version the value layout was not checked against,
 * a working bundle without the rewrites of OPA's runtime, and a warning. The other OPA is a real
 * one: opa-envoy-plugin (installed beside the pinned OPA by scripts/install-tools.sh) is OPA's CLI
 * at an older version (v1.15.2) with the Envoy plugin added. The build's optimize levels are
 * checked on the pinned OPA.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../../src/bundle/build.js";
import { loadBundle } from "../../src/bundle/load.js";
import { opaVersion, PINNED_OPA_VERSION } from "../../src/bundle/opa-cli.js";
import type { Input } from "../../src/contracts/input.js";
import { ToolVersionError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { sampleInputs } from "../support/arbitraries.js";
import { runCli, scenarios, testStepup } from "../helpers.js";

const OTHER_OPA = resolve(".tools/bin/opa-envoy-plugin");
const ALL_REWRITES = ["memo-table", "string-paths", "constant-keys", "parsed-integers", "iteration-cursor"];

let scratch: string;
let corpus: Input[];
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-opa-version-"));
  corpus = [...(await scenarios()).map((s) => s.input), ...sampleInputs(20261206, 300)];
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The verdicts a bundle gives for the corpus. */
async function verdicts(path: string): Promise<unknown[]> {
  const stepup = await Stepup.load(path, { onError: () => {} });
  return corpus.map((input) => stepup.evaluate(input));
}

describe("an OPA other than the pinned one", () => {
  it("is another version indeed", async () => {
    expect(await opaVersion(OTHER_OPA)).not.toBe(PINNED_OPA_VERSION);
  });

  it("is refused, naming both versions, unless allowed", async () => {
    const err = await buildBundle({ regoDir: "rego", out: join(scratch, "refused.tar.gz"), opa: OTHER_OPA }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolVersionError);
    expect(err).toMatchObject({ code: "ERR_TOOL_VERSION", version: await opaVersion(OTHER_OPA), expected: PINNED_OPA_VERSION });
    expect((err as Error).message).toMatch(/--allow-opa-version/);
  });

  it("allowed, builds a working bundle without the rewrites (its layout is not verified), says so, and records it", async () => {
    const out = join(scratch, "other.tar.gz");
    const result = await buildBundle({ regoDir: "rego", out, revision: "other", opa: OTHER_OPA, allowOpaVersion: true });
    const version = await opaVersion(OTHER_OPA);
    expect(result.warnings).toEqual([expect.stringMatching(new RegExp(`OPA ${version.replaceAll(".", "\\.")} .*binaryen -O2 and without them`))]);
    expect(result).toMatchObject({ opaVersion: version, rewrites: [] });
    const bundle = await loadBundle(out);
    expect(bundle.metadata.wasm).toMatchObject({ opa_version: version, optimizer: expect.stringMatching(/ -O2$/), rewrites: [] });
    const stepup = await Stepup.load(out, { onError: () => {} });
    expect(stepup.engineInfo).toMatchObject({ opaVersion: version, rewrites: [], fastPaths: true, fallbacks: [] });
    // It decides as the bundle the pinned OPA builds does.
    expect(await verdicts(out)).toEqual(await verdicts((await testStepup()).bundle.source));
  });

  it("through the CLI: refused with a non-zero exit, built with --allow-opa-version and a warning on stderr", async () => {
    const env = { STEPUP_OPA: OTHER_OPA };
    const refused = await runCli(["bundle", "build", "--rego", "rego", "--out", join(scratch, "cli-refused.tar.gz")], undefined, env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/is version .* not the pinned .*--allow-opa-version/);
    const allowed = await runCli(["bundle", "build", "--rego", "rego", "--out", join(scratch, "cli.tar.gz"), "--allow-opa-version"], undefined, env);
    expect(allowed.stderr).toMatch(/^warning: OPA .* without them/);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`policy.wasm compiled by OPA ${await opaVersion(OTHER_OPA)}, no rewrites of OPA's runtime`);
    expect((await loadBundle(join(scratch, "cli.tar.gz"))).metadata.wasm.rewrites).toEqual([]);
  });
});

describe("--optimize on the pinned OPA", () => {
  it("o2 runs binaryen without the rewrites, none ships OPA's module (as --no-optimize), full is the default", async () => {
    const build = async (flags: string[]) => {
      const out = join(scratch, `${flags.join("") || "default"}.tar.gz`);
      const run = await runCli(["bundle", "build", "--rego", "rego", "--out", out, ...flags]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      return loadBundle(out);
    };
    const [o2, none, noOptimize] = [await build(["--optimize=o2"]), await build(["--optimize=none"]), await build(["--no-optimize"])];
    const full = (await testStepup()).bundle;
    expect(o2.metadata.wasm).toMatchObject({ opa_version: PINNED_OPA_VERSION, optimizer: expect.stringMatching(/ -O2$/), rewrites: [] });
    expect(none.metadata.wasm.optimizer).toBeUndefined();
    expect(none.metadata.wasm.rewrites).toEqual([]);
    expect(Buffer.compare(Buffer.from(none.wasm), Buffer.from(noOptimize.wasm))).toBe(0);
    expect(full.metadata.wasm.rewrites).toEqual(ALL_REWRITES);
    const sizes = [none, o2, full].map((b) => b.wasm.length);
    expect(new Set(sizes).size).toBe(3);
    expect(await verdicts(o2.source)).toEqual(await verdicts(none.source));
    const refused = await runCli(["bundle", "build", "--rego", "rego", "--out", join(scratch, "x.tar.gz"), "--optimize=o3"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Allowed choices are none, o2, full/);
  });
});
