/**
 * A bounded cache of tokens that verified, so a client sending the same token on every request
 * pays for the signature check once. Keyed by the token's SHA-256 (never the token), an entry
 * lives until the token expires, passes its maximum age, or `ttlSec` after it was verified,
 * whichever comes first; a clock that moved backwards verifies again. Only successes are cached,
 * so nobody can fill the cache with junk.
 */
import { createHash } from "node:crypto";
import type { JWTPayload } from "jose";

/** What a verification gave: a token's payload, whose `exp` and `iat` bound how long it is kept. */
export interface Verified {
  readonly payload: JWTPayload;
  readonly typ: string | undefined;
}

interface Entry {
  readonly verified: Verified;
  readonly from: number;
  readonly until: number;
}

export class VerifiedCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlSec = 300,
  ) {}

  /** The cached result for a token valid at `now`, or undefined. */
  get(token: string, now: number): Verified | undefined {
    if (this.maxEntries === 0) return undefined;
    const key = digest(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now < entry.from || now >= entry.until) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.verified;
  }

  /** Remembers a token that verified at `now`; `maxAgeSec` bounds it by its `iat` too. */
  set(token: string, verified: Verified, now: number, maxAgeSec?: number): void {
    if (this.maxEntries === 0) return;
    const { exp, iat } = verified.payload;
    let until = now + this.ttlSec;
    if (typeof exp === "number") until = Math.min(until, exp);
    if (maxAgeSec !== undefined && typeof iat === "number") until = Math.min(until, iat + maxAgeSec);
    if (until <= now) return;
    this.entries.set(digest(token), { verified, from: now, until });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
