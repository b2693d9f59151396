/**
 * Signing and verification keys as OPA takes them: PEM text (a public key in SPKI or PKCS#1, a
 * certificate, or a private key, from which the public key is derived) and an algorithm name.
 * Only asymmetric algorithms: a shared HMAC secret on every fleet member would let any of them
 * sign bundles for all the others.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "../contracts/signing.js";
import { BundleKeyInvalidError } from "../errors.js";

export const DEFAULT_ALGORITHM: SigningAlgorithm = "RS256";

/** What each algorithm needs of its key: the key type and, for ECDSA, the curve. */
const NEEDS: Record<SigningAlgorithm, { type: string[]; curve?: string }> = {
  RS256: { type: ["rsa"] },
  RS384: { type: ["rsa"] },
  RS512: { type: ["rsa"] },
  PS256: { type: ["rsa", "rsa-pss"] },
  PS384: { type: ["rsa", "rsa-pss"] },
  PS512: { type: ["rsa", "rsa-pss"] },
  ES256: { type: ["ec"], curve: "prime256v1" },
  ES384: { type: ["ec"], curve: "secp384r1" },
  ES512: { type: ["ec"], curve: "secp521r1" },
  EdDSA: { type: ["ed25519", "ed448"] },
};

export function isSigningAlgorithm(value: string): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** A public key for verification, from PEM text. */
export function publicKey(pem: string | Uint8Array, algorithm: string, keyId: string): KeyObject {
  return checked(() => createPublicKey(toPem(pem)), algorithm, keyId);
}

/** A private key for signing, from PEM text (PKCS#8, PKCS#1 or SEC1, unencrypted). */
export function privateKey(pem: string | Uint8Array, algorithm: string, keyId: string): KeyObject {
  return checked(() => createPrivateKey(toPem(pem)), algorithm, keyId);
}

function checked(read: () => KeyObject, algorithm: string, keyId: string): KeyObject {
  if (!isSigningAlgorithm(algorithm)) {
    throw new BundleKeyInvalidError(keyId, `algorithm ${algorithm} is not one of ${SIGNING_ALGORITHMS.join(", ")}`);
  }
  let key: KeyObject;
  try {
    key = read();
  } catch (err) {
    throw new BundleKeyInvalidError(keyId, `not a PEM key or certificate (${(err as Error).message})`, { cause: err });
  }
  const needs = NEEDS[algorithm];
  const type = key.asymmetricKeyType ?? "none";
  if (!needs.type.includes(type)) {
    throw new BundleKeyInvalidError(keyId, `${algorithm} needs a ${needs.type.join(" or ")} key, not ${type}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (needs.curve && curve !== needs.curve) {
    throw new BundleKeyInvalidError(keyId, `${algorithm} needs the curve ${needs.curve}, not ${curve ?? "none"}`);
  }
  return key;
}

function toPem(pem: string | Uint8Array): string {
  const text = typeof pem === "string" ? pem : Buffer.from(pem).toString("utf8");
  if (!text.includes("-----BEGIN ")) throw new Error("no PEM block");
  return text;
}
