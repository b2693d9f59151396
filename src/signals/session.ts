/**
 * The session signal: acr, amr and auth_time read from a verified access token or ID token, in
 * the shape the identity provider issues by default (its profile: RFC 9068 `at+jwt` with
 * `client_id` for a generic provider, `typ: JWT` with `azp` for Keycloak and Entra ID, no `typ`
 * with `cid` for Okta), with keys from a JWKS file or URL or the issuer's discovery document. The
 * profile also translates the provider's acr values into the policy's. A token that does not
 * verify is a `TokenInvalidError`, never a guess; a claim that is present but malformed is left
 * unknown rather than trusted. A verified token that lacks the session claims the policy needs is
 * reported once, naming what to enable at the provider.
 */
import type { JWTPayload } from "jose";
import type { IdentityProviderProfile, SessionClaim, TokenKind, TokenShape } from "../contracts/identity-provider.js";
import type { Input } from "../contracts/input.js";
import { SignalConfigInvalidError, TokenInvalidError } from "../errors.js";
import { sessionOf, unixSeconds } from "./idp/claims.js";
import { identityProvider, type ProfileChoice } from "./idp/profile.js";
import { verifyJwt } from "./jwt.js";
import { loadKeys, type KeySource, type Keys } from "./keys.js";
import { VerifiedCache } from "./verified-cache.js";

export interface SessionOptions {
  /** Where the keys come from; by default the `jwks_uri` of the issuer's discovery document (one issuer only). */
  readonly keys?: KeySource;
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  /** `access_token` (the default) or `id_token` (OpenID Connect). */
  readonly tokenKind?: TokenKind;
  /** The identity provider's profile (`generic`, `keycloak`, `entra-id`, `okta`, `auth0`, or one of your own); `generic` by default. */
  readonly profile?: ProfileChoice;
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
  /** Told once per verifier when verified human tokens lack session claims; a JSON line on stderr by default. */
  readonly onMissingClaims?: (report: MissingClaimsReport) => void;
}

/** Verified tokens without some of the claims the policy reads: the provider must be told to add them. */
export interface MissingClaimsReport {
  readonly profile: string;
  readonly tokenKind: TokenKind;
  readonly missing: readonly SessionClaim[];
  /** The session claims the profile says this kind of token carries with the provider's defaults. */
  readonly byDefault: readonly SessionClaim[];
  /** What the profile says to enable at the provider. */
  readonly settings: readonly string[];
}

/** What a verified token says about who is calling and how they authenticated. */
export interface VerifiedCaller {
  readonly subject: Input["subject"];
  readonly session: Input["session"];
  readonly credential: Input["credential"];
}

const BASE_CLAIMS = ["iss", "exp", "aud", "sub", "iat"];

export class SessionVerifier {
  private readonly kind: TokenKind;
  private readonly shape: TokenShape;
  private reported = false;

  private constructor(
    private readonly keys: Keys,
    private readonly cache: VerifiedCache,
    private readonly options: SessionOptions,
    readonly profile: IdentityProviderProfile,
  ) {
    this.kind = options.tokenKind ?? "access_token";
    this.shape = profile[this.kind];
  }

  static async create(options: SessionOptions): Promise<SessionVerifier> {
    const profile = identityProvider(options.profile);
    const keys = options.keys ?? discoveredKeys(options.issuer);
    return new SessionVerifier(await loadKeys(keys), new VerifiedCache(options.cacheSize), options, profile);
  }

  /**
   * Verifies a token at `now` (Unix seconds).
   * @example
   * const caller = await verifier.verify(token, Math.floor(Date.now() / 1000));
   * caller.session; // { acr: "phr", amr: ["hwk"], auth_time: 1795851600 }
   */
  async verify(token: string, now: number): Promise<VerifiedCaller> {
    const access = this.kind === "access_token";
    const required = [...BASE_CLAIMS, ...(access && this.shape.client_claim ? [this.shape.client_claim] : []), ...(this.shape.jti ? ["jti"] : [])];
    const { payload, typ } = await verifyJwt(
      token,
      this.keys,
      {
        issuer: this.options.issuer as string | string[],
        audience: this.options.audience as string | string[],
        ...(this.options.algorithms ? { algorithms: [...this.options.algorithms] } : {}),
        clockTolerance: this.options.clockToleranceSec ?? 60,
        requiredClaims: required,
      },
      now,
      this.cache,
    );
    if (!typeAccepted(typ, this.shape.typ)) throw new TokenInvalidError("type", `the token's typ header is not one ${this.profile.name} issues for an ${this.kind}`);
    for (const [claim, value] of Object.entries(this.shape.claims_equal ?? {})) {
      if (payload[claim] !== value) throw new TokenInvalidError("claims", `the token's ${claim} claim is not acceptable`);
    }
    const sub = payload.sub;
    if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) {
      throw new TokenInvalidError("claims", "the token's sub claim is not acceptable");
    }
    const privilege = this.options.privilegeClaim === undefined ? null : unixSeconds(payload[this.options.privilegeClaim]);
    const subject = { id: sub, roles: strings(payload.roles, 128), groups: strings(payload.groups, 128), tags: [], privilege_granted_at: privilege };
    const client = access && this.shape.client_claim ? payload[this.shape.client_claim] : undefined;
    // RFC 9068 section 2.2: with no resource owner (client credentials) sub names the client.
    if (client === sub && payload.auth_time === undefined && payload.acr === undefined) {
      return { subject: { ...subject, kind: "service" }, session: null, credential: clientCredential(payload) };
    }
    const session = sessionOf(payload, this.profile, this.shape.claim_names);
    this.reportMissing(session);
    return { subject: { ...subject, kind: "human" }, session, credential: null };
  }

  private reportMissing(session: NonNullable<Input["session"]>): void {
    if (this.reported) return;
    const missing = (["acr", "amr", "auth_time"] as const).filter((claim) => session[claim] === null);
    // amr is optional evidence; acr or auth_time missing leaves the policy blind to the session's strength or age.
    if (!missing.includes("acr") && !missing.includes("auth_time")) return;
    this.reported = true;
    const report: MissingClaimsReport = { profile: this.profile.name, tokenKind: this.kind, missing, byDefault: this.shape.carries, settings: this.profile.settings };
    if (this.options.onMissingClaims) return this.options.onMissingClaims(report);
    const line = { level: "warn", msg: "stepup session claims missing", code: "session.claims_missing", ...report };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}

function discoveredKeys(issuer: string | readonly string[]): KeySource {
  if (typeof issuer !== "string") {
    throw new SignalConfigInvalidError([{ path: "session.keys", message: "required when more than one issuer is accepted (discovery needs one issuer)" }]);
  }
  return { issuer };
}

/** RFC 8725 3.11: typ compared case-insensitively, with or without its `application/` prefix. */
function typeAccepted(typ: string | undefined, accepted: TokenShape["typ"]): boolean {
  const normal = typ === undefined ? null : typ.toLowerCase().replace(/^application\//, "");
  return accepted.some((a) => (a === null ? normal === null : a.toLowerCase() === normal));
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
