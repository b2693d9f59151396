/**
 * The verifier's rules beyond tampering, each as OPA has it: which key is chosen (configured id,
 * else the JWT's kid, else the payload's keyid), the algorithm taken from the configuration, one
 * JWT only, files excluded by pattern (checked against `opa run --exclude-files-verify`), SHA-2
 * digests only, and keys that do not suit their algorithm refused when the verifier is made.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { BundleFiles } from "../../src/bundle/archive.js";
import { hashBundleFile } from "../../src/bundle/hash.js";
import { signFiles } from "../../src/bundle/sign.js";
import { BundleVerifier } from "../../src/bundle/verify.js";
import { BundleKeyInvalidError, BundleSignatureError, ConfigInvalidError } from "../../src/errors.js";
import { keyPair, opaRunVerify, readFiles, stepupSign, writeFiles, type KeyPair } from "../support/bundles.js";

let scratch: string;
let files: BundleFiles;
let current: KeyPair;
let next: KeyPair;
let rsa: KeyPair;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-verify-"));
  files = await readFiles(inject("bundlePath"));
  current = await keyPair(scratch, "ES256", "2026-05");
  next = await keyPair(scratch, "ES256", "2026-11");
  rsa = await keyPair(scratch, "RS256", "rsa");
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const both = () => ({
  "2026-05": { key: current.publicPem, algorithm: "ES256" as const },
  "2026-11": { key: next.publicPem, algorithm: "ES256" as const },
});

/** A signatures file with a hand-made JWT, for the cases a correct signer never writes. */
async function withToken(payload: Record<string, unknown>, header: Record<string, unknown>, tokens = 1): Promise<BundleFiles> {
  const key = createPrivateKey(current.privatePem);
  const token = await new SignJWT(payload).setProtectedHeader({ alg: "ES256", ...header }).sign(key);
  const out = new Map([...files].filter(([name]) => name !== ".signatures.json"));
  out.set(".signatures.json", Buffer.from(JSON.stringify({ signatures: Array(tokens).fill(token) })));
  return out;
}

const listed = () => [...files].filter(([n]) => n !== ".signatures.json").map(([name, bytes]) => ({ name, hash: hashBundleFile(name, bytes), algorithm: "SHA-256" }));

describe("choosing the key", () => {
  it("takes the JWT's kid among several keys, so keys rotate without a configuration change", async () => {
    const verifier = new BundleVerifier({ keys: both() });
    expect(await verifier.verify(await stepupSign(files, current), "old")).toMatchObject({ keyId: "2026-05" });
    expect(await verifier.verify(await stepupSign(files, next), "new")).toMatchObject({ keyId: "2026-11" });
  });

  it("lets a configured key id override the kid, and falls back to the payload's keyid", async () => {
    const pinned = new BundleVerifier({ keys: both(), keyId: "2026-11" });
    await expect(pinned.verify(await stepupSign(files, current), "pinned")).rejects.toThrow(/does not verify with key 2026-11/);
    const legacy = await withToken({ files: listed(), keyid: "2026-05" }, {});
    expect(await new BundleVerifier({ keys: both() }).verify(legacy, "legacy")).toMatchObject({ keyId: "2026-05" });
  });

  it("refuses a token without any key id, or with one it does not know", async () => {
    const verifier = new BundleVerifier({ keys: both() });
    await expect(verifier.verify(await withToken({ files: listed() }, {}), "anonymous")).rejects.toThrow(/no key id/);
    await expect(verifier.verify(await withToken({ files: listed() }, { kid: "nobody" }), "stranger")).rejects.toThrow(
      /no verification key with id nobody/,
    );
  });

  it("uses the configured algorithm, never the token's", async () => {
    const signed = await stepupSign(files, rsa); // RS256, kid "rsa"
    const as = (algorithm: "RS256" | "PS256") => new BundleVerifier({ keys: { rsa: { key: rsa.publicPem, algorithm } } });
    expect(await as("RS256").verify(signed, "rs256")).toMatchObject({ keyId: "rsa" });
    // The same key configured for PS256: a valid RS256 signature is not enough.
    await expect(as("PS256").verify(signed, "ps256")).rejects.toThrow(BundleSignatureError);
  });

  it("refuses a key that does not suit its algorithm when the verifier is made", () => {
    expect(() => new BundleVerifier({ keys: { k: { key: current.publicPem, algorithm: "ES384" } } })).toThrow(BundleKeyInvalidError);
    expect(() => new BundleVerifier({ keys: { k: { key: current.publicPem, algorithm: "RS256" } } })).toThrow(/RS256 needs a rsa key, not ec/);
  });
});

describe("the signatures file", () => {
  it("must hold exactly one JWT", async () => {
    const verifier = new BundleVerifier({ keys: both() });
    const two = await withToken({ files: listed() }, { kid: "2026-05" }, 2);
    await expect(verifier.verify(two, "two")).rejects.toThrow(/exactly one JWT, not 2/);
    const none = await withToken({ files: listed() }, { kid: "2026-05" }, 0);
    await expect(verifier.verify(none, "none")).rejects.toThrow(/exactly one JWT, not 0/);
  });

  it("must list digests made with SHA-2", async () => {
    const weak = listed().map((f) => (f.name === "data.json" ? { ...f, algorithm: "SHA-1" } : f));
    const bundle = await withToken({ files: weak }, { kid: "2026-05" });
    await expect(new BundleVerifier({ keys: both() }).verify(bundle, "weak")).rejects.toThrow(/hashed with SHA-1; SHA-2 is required/);
  });
});

describe("excluded files", () => {
  it("may be added after signing without failing verification, in the SDK as in OPA", async () => {
    const signed = await signFiles(files, { key: current.privatePem, algorithm: "ES256", keyId: "default" });
    const extended = new Map([...signed, ["notes/README.md", Buffer.from("added after signing")]]);
    const path = await writeFiles(join(scratch, "extended.tar.gz"), extended);
    const key = { ...current, id: "default" };
    expect((await opaRunVerify(path, { key, exclude: ["notes/*"] }, scratch)).code).toBe(0);
    expect((await opaRunVerify(path, { key }, scratch)).code).not.toBe(0);
    const keys = { default: { key: current.publicPem, algorithm: "ES256" as const } };
    expect(await new BundleVerifier({ keys, exclude: ["notes/*"] }).verify(extended, "x")).toMatchObject({ excluded: ["notes/README.md"] });
    await expect(new BundleVerifier({ keys }).verify(extended, "x")).rejects.toThrow(/notes\/README.md is not included/);
  });
});

describe("configuration", () => {
  it("names the field that is wrong", () => {
    const err = (() => {
      try {
        return new BundleVerifier({ keys: {}, exclude: [""] });
      } catch (e) {
        return e;
      }
    })() as ConfigInvalidError;
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect(err.issues.map((i) => i.path).sort()).toEqual(["verification.exclude[0]", "verification.keys"]);
  });

  it("refuses text that is not a PEM key", () => {
    expect(() => new BundleVerifier({ keys: { k: { key: "not a key", algorithm: "ES256" } } })).toThrow(/key k is not usable: not a PEM key/);
  });
});
