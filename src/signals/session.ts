/**
 * The session signal: acr, amr and auth_time read from a verified access token (RFC 9068,
 * `typ: at+jwt`) or ID token, with jose and keys from a JWKS file or URL. A token that does not
 * verify is a `TokenInvalidError`, never a guess. A claim that is present but malformed (an `amr`
 * that is not a list of strings) is left unknown rather than trusted.
 */
import type { JWTPayload } from "jose";
import type { Input } from "../contracts/input.js";
import { TokenInvalidError } from "../errors.js";
import { verifyJwt } from "./jwt.js";
import { loadKeys, type KeySource, type Keys } from "./keys.js";
import { VerifiedCache } from "./verified-cache.js";

export interface SessionOptions {
  readonly keys: KeySource;
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  /** `access_token` (RFC 9068, the default) or `id_token` (OpenID Connect). */
  readonly tokenKind?: "access_token" | "id_token";
  readonly algorithms?: readonly string[];
  /** Seconds of clock skew tolerated on exp, nbf and iat; 60 by default. */
  readonly clockToleranceSec?: number;
  /** Verified tokens remembered (by hash) so a repeated one is not verified again; 10 000 by default, 0 for none. */
  readonly cacheSize?: number;
  /**
   * The claim that says when the subject was last granted a role or group (Unix seconds), if the
   * identity provider issues one: an action that uses privilege then needs a login after it.
   */
  readonly privilegeClaim?: string;
}

/** What a verified token says about who is calling and how they authenticated. */
export interface VerifiedCaller {
  readonly subject: Input["subject"];
  readonly session: Input["session"];
  readonly credential: Input["credential"];
}

// RFC 9068 section 2.2: every access token carries these.
const ACCESS_TOKEN_CLAIMS = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];
const ID_TOKEN_CLAIMS = ["iss", "exp", "aud", "sub", "iat"];

export class SessionVerifier {
  private constructor(
    private readonly keys: Keys,
    private readonly cache: VerifiedCache,
    private readonly options: SessionOptions,
  ) {}

  static async create(options: SessionOptions): Promise<SessionVerifier> {
    return new SessionVerifier(await loadKeys(options.keys), new VerifiedCache(options.cacheSize), options);
  }

  /**
   * Verifies a token at `now` (Unix seconds).
   * @example
   * const caller = await verifier.verify(token, Math.floor(Date.now() / 1000));
   * caller.session; // { acr: "phr", amr: ["hwk"], auth_time: 1795851600 }
   */
  async verify(token: string, now: number): Promise<VerifiedCaller> {
    const access = (this.options.tokenKind ?? "access_token") === "access_token";
    const { payload } = await verifyJwt(
      token,
      this.keys,
      {
        issuer: this.options.issuer as string | string[],
        audience: this.options.audience as string | string[],
        ...(this.options.algorithms ? { algorithms: [...this.options.algorithms] } : {}),
        clockTolerance: this.options.clockToleranceSec ?? 60,
        requiredClaims: access ? ACCESS_TOKEN_CLAIMS : ID_TOKEN_CLAIMS,
        ...(access ? { typ: "at+jwt" } : {}),
      },
      now,
      this.cache,
    );
    const sub = payload.sub;
    if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) {
      throw new TokenInvalidError("claims", "the token's sub claim is not acceptable");
    }
    const privilege = this.options.privilegeClaim === undefined ? null : unixSeconds(payload[this.options.privilegeClaim]);
    const subject = { id: sub, roles: strings(payload.roles, 128), groups: strings(payload.groups, 128), tags: [], privilege_granted_at: privilege };
    // RFC 9068 section 2.2: with no resource owner (client credentials) sub names the client.
    if (access && payload.client_id === sub && payload.auth_time === undefined && payload.acr === undefined) {
      return { subject: { ...subject, kind: "service" }, session: null, credential: clientCredential(payload) };
    }
    return { subject: { ...subject, kind: "human" }, session: sessionOf(payload), credential: null };
  }
}

function sessionOf(payload: JWTPayload): NonNullable<Input["session"]> {
  const acr = typeof payload.acr === "string" && payload.acr.length > 0 && payload.acr.length <= 256 ? payload.acr : null;
  const amr =
    Array.isArray(payload.amr) && payload.amr.length <= 16 && payload.amr.every((m) => typeof m === "string" && m.length > 0 && m.length <= 64)
      ? (payload.amr as string[])
      : null;
  return { acr, amr, auth_time: unixSeconds(payload.auth_time) };
}

function clientCredential(payload: JWTPayload): NonNullable<Input["credential"]> {
  return {
    type: "oauth_client_credentials",
    issued_at: unixSeconds(payload.iat),
    expires_at: unixSeconds(payload.exp),
    storage: null,
    spiffe_id: null,
  };
}

function unixSeconds(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 253_402_300_799 ? value : null;
}

/** RFC 9068 section 2.2.3.1 (SCIM): a list of strings, or of objects carrying `value`. */
function strings(value: unknown, maxLength: number): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value.slice(0, 64)) {
    const text = typeof item === "string" ? item : (item as { value?: unknown } | null)?.value;
    if (typeof text === "string" && text.length > 0 && text.length <= maxLength) out.push(text);
  }
  return out;
}
