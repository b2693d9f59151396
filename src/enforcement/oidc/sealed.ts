/**
 * Sealed values for the browser login's cookies: JSON encrypted and authenticated with AES-256-GCM
 * (a compact JWE, `dir`, via jose) under a key derived from the application's secret with HKDF,
 * and bound to an expiry inside the ciphertext. A cookie that was altered, sealed under another
 * secret, or has expired opens as null: the browser simply has no session or no pending request.
 */
import { hkdfSync } from "node:crypto";
import { jose } from "../../lazy.js";

export class Sealer {
  private readonly key: Uint8Array;

  /** `secret`: at least 32 characters, the same on every instance of the application. */
  constructor(secret: string, purpose: string) {
    if (secret.length < 32) throw new RangeError("the cookie secret must be at least 32 characters");
    this.key = new Uint8Array(hkdfSync("sha256", secret, "stepup", `stepup cookie: ${purpose}`, 32));
  }

  async seal(value: unknown, now: number, ttlSec: number): Promise<string> {
    const { CompactEncrypt } = await jose();
    const plaintext = new TextEncoder().encode(JSON.stringify({ v: value, exp: now + ttlSec }));
    return new CompactEncrypt(plaintext).setProtectedHeader({ alg: "dir", enc: "A256GCM" }).encrypt(this.key);
  }

  async open<T>(sealed: string | undefined, now: number): Promise<T | null> {
    if (!sealed || sealed.length > 8192) return null;
    const { compactDecrypt } = await jose();
    try {
      const { plaintext } = await compactDecrypt(sealed, this.key, { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
      const { v, exp } = JSON.parse(new TextDecoder().decode(plaintext)) as { v: T; exp: number };
      return typeof exp === "number" && exp > now ? v : null;
    } catch {
      return null;
    }
  }
}
