/**
 * Verifying a bundle's signature the way OPA does (v1/bundle/verify.go and the bundle reader):
 * exactly one JWT in `.signatures.json`; the key chosen by the configured key id, else the JWT's
 * `kid`, else the payload's `keyid`; the algorithm taken from the key's configuration, never from
 * the token; the scope (configured, else the key's) equal to the payload's; then every file but
 * the signatures file listed with a matching digest, and every listed file present. Files that
 * match an `exclude` pattern are left out on both sides.
 */
import type { KeyObject } from "node:crypto";
import {
  SignaturePayloadSchema,
  SignaturesFileSchema,
  VerificationConfigSchema,
  type SignedFile,
  type SigningAlgorithm,
  type VerificationConfig,
} from "../contracts/signing.js";
import { toIssues } from "../contracts/issues.js";
import { BundleSignatureError, ConfigInvalidError } from "../errors.js";
import { jose, minimatch } from "../lazy.js";
import type { BundleFiles } from "./archive.js";
import { FILE_HASH_ALGORITHMS, hashBundleFile } from "./hash.js";
import { publicKey } from "./keys.js";
import { isSignaturesFile } from "./sign.js";

/** What a successful verification established. */
export interface Verification {
  readonly keyId: string;
  readonly scope: string;
  /** Files whose digest was checked. */
  readonly verified: number;
  /** Files left out by an `exclude` pattern. */
  readonly excluded: readonly string[];
}

interface Key {
  readonly key: KeyObject;
  readonly algorithm: SigningAlgorithm;
  readonly scope?: string;
}

const GLOB = { dot: true, noglobstar: true, nobrace: true, noext: true, nocomment: true, nonegate: true };

/** Verifies bundles against one configuration; keys are read once, when it is made. */
export class BundleVerifier {
  private readonly keys = new Map<string, Key>();
  private readonly keyId?: string;
  private readonly scope?: string;
  private readonly exclude: readonly string[];

  /**
   * Throws `ConfigInvalidError` when the configuration breaks its schema and
   * `BundleKeyInvalidError` when a key cannot be read or does not suit its algorithm.
   * @example
   * const verifier = new BundleVerifier({ keys: { default: { key: pem, algorithm: "ES256" } } });
   * await verifier.verify(files, "bundles/stepup.tar.gz");
   */
  constructor(config: VerificationConfig) {
    const parsed = VerificationConfigSchema.safeParse(config);
    if (!parsed.success) throw new ConfigInvalidError(toIssues(parsed.error, "verification"));
    for (const [id, entry] of Object.entries(parsed.data.keys)) {
      this.keys.set(id, { key: publicKey(entry.key, entry.algorithm, id), algorithm: entry.algorithm, scope: entry.scope });
    }
    this.keyId = parsed.data.keyId;
    this.scope = parsed.data.scope;
    this.exclude = parsed.data.exclude;
  }

  /** Checks the signature and every file; throws `BundleSignatureError` saying what failed. */
  async verify(files: BundleFiles, source: string): Promise<Verification> {
    const fail = (reason: string, cause?: unknown): never => {
      throw new BundleSignatureError(source, reason, cause === undefined ? undefined : { cause });
    };
    const token = signatureToken(files, fail);
    const { compactVerify, decodeProtectedHeader } = await jose();
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      return fail(`the signature is not a JWT (${(err as Error).message})`, err);
    }
    const unverified = SignaturePayloadSchema.safeParse(decodePayload(token));
    const keyId = this.keyId ?? header.kid ?? (unverified.success ? unverified.data.keyid : undefined);
    if (!keyId) return fail("no key id: the JWT has no kid and none is configured");
    const key = this.keys.get(keyId);
    if (!key) return fail(`no verification key with id ${keyId}`);
    let payloadBytes: Uint8Array;
    try {
      ({ payload: payloadBytes } = await compactVerify(token, key.key, { algorithms: [key.algorithm] }));
    } catch (err) {
      return fail(`the JWT does not verify with key ${keyId} (${key.algorithm}): ${(err as Error).message}`, err);
    }
    const payload = SignaturePayloadSchema.safeParse(parseJson(payloadBytes));
    if (!payload.success) return fail("the JWT's payload does not list files as OPA's format does");
    const expected = this.scope ?? key.scope ?? "";
    const scope = payload.data.scope ?? "";
    if (scope !== expected) return fail(`scope mismatch: signed for ${JSON.stringify(scope)}, expected ${JSON.stringify(expected)}`);
    const { verified, excluded } = this.checkFiles(files, payload.data.files, fail);
    return { keyId, scope, verified, excluded };
  }

  private checkFiles(files: BundleFiles, signed: readonly SignedFile[], fail: (reason: string) => never) {
    const listed = new Map(signed.map((f) => [f.name, f]));
    let verified = 0;
    const excluded: string[] = [];
    for (const [name, bytes] of files) {
      if (isSignaturesFile(name)) continue;
      if (this.exclude.some((pattern) => minimatch().minimatch(name, pattern, GLOB))) {
        excluded.push(name);
        listed.delete(name);
        continue;
      }
      const entry = listed.get(name);
      if (!entry) fail(`file ${name} is not included in the signature (added after signing)`);
      const algorithm = (entry as SignedFile).algorithm;
      if (!FILE_HASH_ALGORITHMS[algorithm]) fail(`file ${name} is hashed with ${algorithm || "no algorithm"}; SHA-2 is required`);
      let digest: string;
      try {
        digest = hashBundleFile(name, bytes, algorithm);
      } catch (err) {
        return fail(`file ${name} cannot be hashed: ${(err as Error).message}`);
      }
      if (digest !== (entry as SignedFile).hash.toLowerCase()) fail(`file ${name} does not match its digest (changed after signing)`);
      listed.delete(name);
      verified++;
    }
    if (listed.size > 0) fail(`file(s) ${[...listed.keys()].join(", ")} are signed but not in the bundle (removed after signing)`);
    return { verified, excluded };
  }
}

/** Whether the bundle carries a signatures file at all. */
export function isSigned(files: BundleFiles): boolean {
  for (const name of files.keys()) if (isSignaturesFile(name)) return true;
  return false;
}

function signatureToken(files: BundleFiles, fail: (reason: string) => never): string {
  const found = [...files.keys()].filter(isSignaturesFile);
  if (found.length === 0) fail("the bundle has no .signatures.json");
  if (found.length > 1) fail(`the bundle has more than one signatures file: ${found.join(", ")}`);
  const parsed = SignaturesFileSchema.safeParse(parseJson(files.get(found[0] as string) as Uint8Array));
  if (!parsed.success) fail(".signatures.json is not OPA's format ({\"signatures\": [JWT]})");
  const { signatures, plugin } = parsed.data as { signatures: string[]; plugin?: string };
  if (plugin && plugin !== "_default") fail(`signing plugin ${plugin} is not supported`);
  if (signatures.length !== 1) fail(`.signatures.json must hold exactly one JWT, not ${signatures.length}`);
  return signatures[0] as string;
}

function decodePayload(token: string): unknown {
  const part = token.split(".")[1] ?? "";
  return parseJson(Buffer.from(part, "base64url"));
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
}
