/**
 * One way to verify a JWT (jose's jwtVerify) and to classify what went wrong: a token that does
 * not verify is `TokenInvalidError` with a short reason; keys that cannot be had are
 * `KeysUnavailableError`, an internal failure rather than the caller's fault.
 */
import type { errors, JWTPayload, JWTVerifyOptions } from "jose";
import { KeysUnavailableError, TokenInvalidError } from "../errors.js";
import { jose } from "../lazy.js";
import type { Keys } from "./keys.js";
import type { Verified, VerifiedCache } from "./verified-cache.js";

/** Asymmetric algorithms only: a shared secret has no place in a key set that many parties read. */
export const DEFAULT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

/** Longer than any sane token; refused before parsing. */
export const MAX_TOKEN_LENGTH = 16_384;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export type { Verified };

/** Verifies a compact JWT against a key set at `now` (Unix seconds), through a cache when given one. */
export async function verifyJwt(token: string, keys: Keys, options: JWTVerifyOptions, now: number, cache?: VerifiedCache): Promise<Verified> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
    throw new TokenInvalidError("malformed", "the token is not a compact JWS");
  }
  const hit = cache?.get(token, now);
  if (hit) return hit;
  const verified = await verifyUncached(token, keys, options, now);
  cache?.set(token, verified, now, typeof options.maxTokenAge === "number" ? options.maxTokenAge : undefined);
  return verified;
}

async function verifyUncached(token: string, keys: Keys, options: JWTVerifyOptions, now: number): Promise<Verified> {
  const { errors: joseErrors, jwtVerify } = await jose();
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys.getKey, {
      algorithms: DEFAULT_ALGORITHMS,
      ...options,
      currentDate: new Date(now * 1000),
    });
    return { payload, typ: protectedHeader.typ };
  } catch (err) {
    throw classify(err, keys.source, joseErrors);
  }
}

function classify(err: unknown, source: string, joseErrors: typeof errors): TokenInvalidError | KeysUnavailableError {
  const code = err instanceof joseErrors.JOSEError ? err.code : undefined;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new TokenInvalidError("expired", "the token has expired", { cause: err });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new TokenInvalidError("signature", "the token's signature does not verify", { cause: err });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (err as errors.JWTClaimValidationFailed).claim;
      const reason = claim === "typ" ? "type" : "claims";
      return new TokenInvalidError(reason, `the token's ${claim} claim is not acceptable`, { cause: err });
    }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return new TokenInvalidError("algorithm", "the token's algorithm is not accepted", { cause: err });
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return new TokenInvalidError("key", "no single trusted key matches the token", { cause: err });
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return new TokenInvalidError("malformed", "the token is malformed", { cause: err });
    default:
      // Timeouts, unreachable or broken key sets, and anything else unexpected.
      return new KeysUnavailableError(source, { cause: err });
  }
}
