/**
 * Signing a bundle in OPA's format, so that `opa run --verification-key` and OPA's bundle plugin
 * accept it: `.signatures.json` = {"signatures": [JWT]}, the JWT's payload listing every file but
 * the signatures file with its SHA-256 (structured documents in OPA's normal form), the key id in
 * the header's `kid` and, for older OPAs, in the payload's `keyid`, and an optional `scope`.
 */
import type { SigningAlgorithm } from "../contracts/signing.js";
import type { SignedFile } from "../contracts/signing.js";
import { jose } from "../lazy.js";
import { readArchive, writeArchive, type BundleFiles } from "./archive.js";
import { hashBundleFile } from "./hash.js";
import { DEFAULT_ALGORITHM, privateKey } from "./keys.js";

export const SIGNATURES_FILE = ".signatures.json";
export const DEFAULT_KEY_ID = "default";

export interface SignOptions {
  /** The private key, PEM text (PKCS#8, PKCS#1 or SEC1). */
  readonly key: string | Uint8Array;
  /** RS256 by default, as OPA's. */
  readonly algorithm?: SigningAlgorithm;
  /** The key id verifiers look the public key up by; "default", as OPA's. */
  readonly keyId?: string;
  /** A scope the verifier must expect (OPA's `scope`); none by default. */
  readonly scope?: string;
}

/** Whether the path names a signatures file; OPA matches the base name anywhere in the bundle. */
export function isSignaturesFile(path: string): boolean {
  return path === SIGNATURES_FILE || path.endsWith(`/${SIGNATURES_FILE}`);
}

/**
 * Signs the bundle's files: returns them with a new `.signatures.json` first (any previous
 * signatures file is dropped) and the others in their order.
 * @example
 * const signed = await signFiles(files, { key: await readFile("key.pem", "utf8"), algorithm: "ES256" });
 * await writeFile("signed.tar.gz", writeArchive(signed));
 */
export async function signFiles(files: BundleFiles, options: SignOptions): Promise<BundleFiles> {
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  const keyId = options.keyId ?? DEFAULT_KEY_ID;
  const key = privateKey(options.key, algorithm, keyId);
  const listed: SignedFile[] = [];
  const kept: BundleFiles = new Map();
  for (const [name, bytes] of files) {
    if (isSignaturesFile(name)) continue;
    kept.set(name, bytes);
    listed.push({ name, hash: hashBundleFile(name, bytes), algorithm: "SHA-256" });
  }
  const payload: Record<string, unknown> = { files: listed, keyid: keyId };
  if (options.scope !== undefined) payload.scope = options.scope;
  const { SignJWT } = await jose();
  const token = await new SignJWT(payload).setProtectedHeader({ alg: algorithm, kid: keyId, typ: "JWT" }).sign(key);
  const signatures = Buffer.from(JSON.stringify({ signatures: [token] }, null, 1));
  return new Map([[SIGNATURES_FILE, signatures], ...kept]);
}

/** Signs a bundle archive: reads it (with the usual limits and path checks), signs, writes it anew. */
export async function signArchive(bytes: Uint8Array, source: string, options: SignOptions): Promise<Uint8Array> {
  return writeArchive(await signFiles(await readArchive(bytes, source), options));
}
