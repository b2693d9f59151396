/**
 * Interoperability of bundle signatures with OPA, both ways: bundles signed by stepup are
 * accepted by `opa run --verification-key`, bundles signed by `opa build --signing-key` are
 * accepted by the SDK, and every kind of tampering, a wrong key and a scope mismatch are refused
 * by both. OPA is the pinned binary, run for real.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { BundleFiles } from "../../src/bundle/archive.js";
import { loadBundle } from "../../src/bundle/load.js";
import { BundleVerifier } from "../../src/bundle/verify.js";
import { BundleSignatureError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { mismatches } from "../../src/scenarios/catalog.js";
import { scenarios, runCli } from "../helpers.js";
import {
  TAMPERINGS,
  keyPair,
  opaRunVerify,
  opaSign,
  readFiles,
  stepupSign,
  writeFiles,
  type KeyPair,
} from "../support/bundles.js";

let scratch: string;
let unsigned: BundleFiles;
const keys: Record<string, KeyPair> = {};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-signing-"));
  unsigned = await readFiles(inject("bundlePath"));
  keys.rsa = await keyPair(scratch, "RS256", "rsa");
  keys.ec = await keyPair(scratch, "ES256", "ec");
  keys.otherEc = await keyPair(scratch, "ES256", "other-ec");
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
const path = (name: string) => join(scratch, `${counter++}-${name}.tar.gz`);

/**
 * The SDK's verdict on a bundle file: undefined when accepted, else the error. Configured as
 * `opa run --verification-key` configures OPA: one key, named "default", whose id is imposed.
 */
async function sdkVerify(bundlePath: string, key: KeyPair, scope?: string): Promise<unknown> {
  const keys = { default: { key: key.publicPem, algorithm: key.algorithm } };
  const verifier = new BundleVerifier({ keys, keyId: "default", scope });
  return loadBundle(bundlePath, { verifier }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe.each([
  ["RS256", "rsa"],
  ["ES256", "ec"],
] as const)("%s signatures", (_alg, keyName) => {
  it("made by stepup are accepted by opa run --verification-key and by the SDK", async () => {
    const key = keys[keyName] as KeyPair;
    const signed = await writeFiles(path("stepup-signed"), await stepupSign(unsigned, key));
    const opa = await opaRunVerify(signed, { key }, scratch);
    expect(opa.stdout).not.toMatch(/error/);
    expect(opa.code).toBe(0);
    expect(opa.stdout).toContain('"test-revision"');
    expect(await sdkVerify(signed, key)).toBeUndefined();
  });

  it("made by opa build --signing-key are accepted by the SDK, which decides every scenario with them", async () => {
    const key = keys[keyName] as KeyPair;
    const signed = await opaSign(unsigned, key, scratch);
    expect((await opaRunVerify(signed, { key }, scratch)).code).toBe(0);
    const stepup = await Stepup.load(signed, {
      verification: { keys: { default: { key: key.publicPem, algorithm: key.algorithm } } },
    });
    expect(stepup.bundle.signature).toMatchObject({ keyId: "default", scope: "" });
    expect(stepup.bundle.signature?.verified).toBe(unsigned.size);
    for (const scenario of await scenarios()) {
      expect(mismatches(scenario, stepup.decideInput(scenario.input)), scenario.name).toEqual([]);
    }
  });
});

describe.each(["stepup", "opa"] as const)("a bundle signed by %s is refused by both verifiers when", (signer) => {
  async function signed(files: BundleFiles, key: KeyPair, scope?: string): Promise<BundleFiles> {
    return signer === "stepup" ? stepupSign(files, key, scope) : readFiles(await opaSign(files, key, scratch, scope));
  }

  for (const tampering of TAMPERINGS) {
    it(`it carries ${tampering.name}`, async () => {
      const key = keys.ec as KeyPair;
      const bundle = await writeFiles(path("tampered"), tampering.apply(await signed(unsigned, key)));
      const opa = await opaRunVerify(bundle, { key }, scratch);
      expect(opa.code).not.toBe(0);
      expect(opa.stdout + opa.stderr).toMatch(tampering.opa);
      const err = await sdkVerify(bundle, key);
      expect(err).toBeInstanceOf(BundleSignatureError);
      expect((err as BundleSignatureError).code).toBe("ERR_BUNDLE_SIGNATURE");
    });
  }

  it("it is verified with another key", async () => {
    const bundle = await writeFiles(path("other-key"), await signed(unsigned, keys.ec as KeyPair));
    const opa = await opaRunVerify(bundle, { key: keys.otherEc as KeyPair }, scratch);
    expect(opa.code).not.toBe(0);
    expect(opa.stdout + opa.stderr).toMatch(/failed to verify JWT signature/);
    const err = await sdkVerify(bundle, keys.otherEc as KeyPair);
    expect(err).toBeInstanceOf(BundleSignatureError);
    expect((err as Error).message).toMatch(/does not verify with key default/);
  });

  it("its scope differs from the one expected", async () => {
    const key = keys.ec as KeyPair;
    const prod = await writeFiles(path("prod"), await signed(unsigned, key, "prod"));
    for (const expected of ["staging", undefined]) {
      const opa = await opaRunVerify(prod, { key, scope: expected }, scratch);
      expect(opa.code, `expected scope ${expected}`).not.toBe(0);
      expect(opa.stdout + opa.stderr).toMatch(/scope mismatch/);
      expect(await sdkVerify(prod, key, expected)).toBeInstanceOf(BundleSignatureError);
    }
    // The right scope is accepted by both.
    expect((await opaRunVerify(prod, { key, scope: "prod" }, scratch)).code).toBe(0);
    expect(await sdkVerify(prod, key, "prod")).toBeUndefined();
    // And a bundle signed without a scope is refused where one is expected.
    const none = await writeFiles(path("no-scope"), await signed(unsigned, key));
    const unscoped = await opaRunVerify(none, { key, scope: "prod" }, scratch);
    expect(unscoped.stdout + unscoped.stderr).toMatch(/scope mismatch/);
    expect(await sdkVerify(none, key, "prod")).toBeInstanceOf(BundleSignatureError);
  });
});

describe("digests of structured documents", () => {
  // JSON values with what Go's encoder treats specially: HTML characters (not escaped), control
  // characters, U+2028/U+2029, non-BMP keys (sorted by UTF-8 bytes), number literals kept as written.
  const tricky = fc.string({ unit: fc.constantFrom("a", "<", ">", "&", '"', "\\", "\n", "\u0001", "\u007f", "\u2028", "\u2029", "é", "😀", "\uffff") });
  const number = fc.constantFrom("0", "-0", "1.0", "1e3", "1E-7", "12345678901234567890", "0.1");
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(tricky.map((s) => JSON.stringify(s)), number, fc.constantFrom("true", "false", "null")),
    node: fc.oneof({ depthSize: "small" }, tie("leaf"), tie("array"), tie("object")),
    array: fc.array(tie("node"), { maxLength: 4 }).map((items) => `[ ${(items as string[]).join(" ,\n")} ]`),
    object: fc
      .uniqueArray(fc.tuple(tricky, tie("node")), { maxLength: 4, selector: ([k]) => k })
      .map((entries) => `{${(entries as [string, string][]).map(([k, v]) => `\n  ${JSON.stringify(k)} : ${v}`).join(",")}}`),
  }));
  /** The test bundle with one more data file holding the generated document. */
  const withFixture = (text: string): BundleFiles => new Map([...unsigned, ["stepup/fixtures/data.json", Buffer.from(`{"doc": ${text}}`)]]);

  it("match OPA's in both directions for generated JSON", async () => {
    const key = keys.ec as KeyPair;
    await fc.assert(
      fc.asyncProperty(value.object, async (text) => {
        const ours = await writeFiles(path("fixture"), await stepupSign(withFixture(text as string), key));
        const opa = await opaRunVerify(ours, { key }, scratch);
        expect(opa.stdout).not.toMatch(/error/);
        expect(opa.code).toBe(0);
        const theirs = await opaSign(withFixture(text as string), key, scratch);
        expect(await sdkVerify(theirs, key)).toBeUndefined();
      }),
      { seed: 20_260_515, numRuns: 12 },
    );
  });
});

describe("stepup bundle build, sign and verify (CLI)", () => {
  it("builds a signed bundle that opa run and the SDK accept", async () => {
    const out = path("cli-built");
    const key = keys.ec as KeyPair;
    const args = ["bundle", "build", "--rego", "rego", "--out", out, "--revision", "signed-build"];
    const build = await runCli([...args, "--signing-key", key.privatePath, "--signing-alg", "ES256", "--key-id", "release"]);
    expect(build.stderr).toBe("");
    expect(build.stdout).toMatch(/revision signed-build, \d+ codes, signed with key release/);
    const opa = await opaRunVerify(out, { key }, scratch);
    expect(opa.code).toBe(0);
    expect(opa.stdout).toContain('"signed-build"');
    const stepup = await Stepup.load(out, { verification: { keys: { release: { key: key.publicPem, algorithm: "ES256" } } } });
    expect(stepup.revision).toBe("signed-build");
    expect(stepup.bundle.signature?.keyId).toBe("release");
  });

  it("signs a bundle that opa run accepts, verifies it, and refuses it with the wrong key", async () => {
    const out = path("cli-signed");
    const key = keys.rsa as KeyPair;
    const sign = await runCli(["bundle", "sign", inject("bundlePath"), "--signing-key", key.privatePath, "--key-id", "fleet", "--out", out]);
    expect(sign.stderr).toBe("");
    expect(sign.code).toBe(0);
    const opa = await opaRunVerify(out, { key }, scratch);
    expect(opa.code).toBe(0);
    const ok = await runCli(["bundle", "verify", out, "--verification-key", key.publicPath, "--verification-key-id", "fleet"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/verified .*: revision test-revision, \d+ files, key fleet/);
    const wrong = await runCli(["bundle", "verify", out, "--verification-key", (keys.otherEc as KeyPair).publicPath, "--signing-alg", "ES256"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_BUNDLE_SIGNATURE/);
  });

  it("refuses a key that does not suit the algorithm, as bad usage", async () => {
    const result = await runCli(["bundle", "sign", inject("bundlePath"), "--signing-key", (keys.ec as KeyPair).privatePath, "--out", path("x")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ERR_BUNDLE_KEY_INVALID: key default is not usable: RS256 needs a rsa key, not ec/);
  });
});
