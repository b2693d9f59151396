/**
 * The relying party: an OpenID Connect client (panva's openid-client) configured by discovery
 * from the provider's issuer, which turns a step-up requirement into an authorization request
 * (authorization code with PKCE, state and nonce, and the requirement in the provider's terms)
 * and checks the answer: openid-client verifies the code exchange and the ID token (signature,
 * issuer, audience, nonce, expiry); stepup then checks the session the provider vouches for
 * against the requirement. Nothing here keeps state: what a request needs to be completed travels
 * in `PendingRequest`, which the caller keeps (sealed in a cookie, or in memory).
 */
import type { JWTPayload } from "jose";
import type { IdentityProviderProfile } from "../../contracts/identity-provider.js";
import type { Input } from "../../contracts/input.js";
import { IdpCallbackError, IdpDiscoveryError } from "../../errors.js";
import { openidClient } from "../../lazy.js";
import { isTrustedTransport } from "../../signals/discovery.js";
import { sessionOf } from "../../signals/idp/claims.js";
import { identityProvider, type ProfileChoice } from "../../signals/idp/profile.js";
import type { ProfilePatch } from "../../contracts/identity-provider.js";
import { assess, authorizationParameters, type Assessment, type StepUpRequirement } from "./requirement.js";

type Configuration = import("openid-client").Configuration;

export interface RelyingPartyOptions {
  /** The provider's issuer; its discovery document configures the client. */
  readonly issuer: string;
  readonly clientId: string;
  /** For a confidential client (client_secret_post); a public client (a native app) has none. */
  readonly clientSecret?: string;
  /** Where the provider sends the browser back; registered with the provider. */
  readonly redirectUri: string;
  readonly profile?: ProfileChoice;
  readonly profilePatch?: ProfilePatch;
  /** Scopes asked for; `openid` by default. */
  readonly scope?: string;
  /** Seconds allowed for each call to the provider; 10 by default. */
  readonly timeoutSec?: number;
  /** Seconds of clock skew tolerated when checking auth_time; 60 by default. */
  readonly clockToleranceSec?: number;
}

/** What completing an authorization request needs; kept by the caller between the redirect and the callback. */
export interface PendingRequest {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly requirement: StepUpRequirement;
  readonly attempt: number;
  /** Unix seconds when the browser was sent to the provider. */
  readonly startedAt: number;
}

/** A completed authorization: the tokens, the ID token's verified claims, and the session they vouch for. */
export interface Completed {
  readonly idToken: string;
  readonly accessToken: string;
  readonly claims: JWTPayload;
  /** The ID token's session signals, mapped through the profile. */
  readonly session: NonNullable<Input["session"]>;
  readonly assessment: Assessment;
}

export class RelyingParty {
  private constructor(
    private readonly config: Configuration,
    private readonly options: RelyingPartyOptions,
    readonly profile: IdentityProviderProfile,
  ) {}

  /**
   * Discovers the provider and configures the client.
   * @example
   * const rp = await RelyingParty.discover({ issuer: "https://sso.example/realms/corp", clientId: "payroll",
   *   clientSecret: process.env.CLIENT_SECRET, redirectUri: "https://payroll.example/auth/callback", profile: "keycloak" });
   */
  static async discover(options: RelyingPartyOptions): Promise<RelyingParty> {
    const profile = identityProvider(options.profile, options.profilePatch);
    const client = await openidClient();
    const server = new URL(options.issuer);
    if (!isTrustedTransport(server)) throw new IdpDiscoveryError(options.issuer, "the issuer is neither https nor http on loopback");
    const auth = options.clientSecret === undefined ? client.None() : client.ClientSecretPost(options.clientSecret);
    try {
      const config = await client.discovery(server, options.clientId, undefined, auth, {
        timeout: options.timeoutSec ?? 10,
        // Plain http only to this machine (tests, a provider beside the app); https everywhere else.
        ...(server.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : {}),
      });
      return new RelyingParty(config, options, profile);
    } catch (err) {
      throw new IdpDiscoveryError(options.issuer, (err as Error).message, { cause: err });
    }
  }

  /** The issuer the client was configured for. */
  get issuer(): string {
    return this.options.issuer;
  }

  /** openid-client's configuration, for calls this class does not wrap (fetchProtectedResource, refresh). */
  get configuration(): Configuration {
    return this.config;
  }

  /** Where the provider sends the browser back. */
  get redirectUri(): string {
    return this.options.redirectUri;
  }

  /**
   * An authorization request asking for `requirement`; keep `pending` until the callback.
   * `attempt` 2 adds `prompt=login`.
   */
  async begin(requirement: StepUpRequirement, now: number, attempt = 1): Promise<{ url: URL; pending: PendingRequest }> {
    const client = await openidClient();
    const params = authorizationParameters(requirement, this.profile, attempt);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(this.config, {
      redirect_uri: this.options.redirectUri,
      scope: this.options.scope ?? "openid",
      response_type: "code",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...params,
    });
    return { url, pending: { state, nonce, verifier, requirement, attempt, startedAt: now } };
  }

  /**
   * Completes the request the browser came back from (`callbackUrl`, the redirect URI with the
   * provider's answer in its query): exchanges the code and checks what came back.
   * @throws IdpCallbackError for an error answer, a state, nonce or PKCE mismatch, or a bad ID token
   */
  async complete(callbackUrl: URL, pending: PendingRequest, now: number): Promise<Completed> {
    const client = await openidClient();
    const providerError = callbackUrl.searchParams.get("error");
    if (providerError !== null) {
      throw new IdpCallbackError(`the provider answered ${providerError.slice(0, 64)}`);
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(this.config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new IdpCallbackError(reasonOf(err), { cause: err });
    }
    const claims = tokens.claims();
    if (!claims || typeof tokens.id_token !== "string") throw new IdpCallbackError("no ID token in the token response");
    return {
      idToken: tokens.id_token,
      accessToken: tokens.access_token,
      claims,
      session: sessionOf(claims, this.profile),
      assessment: assess(claims, pending.requirement, this.profile, now, this.options.clockToleranceSec ?? 60),
    };
  }
}

/** openid-client's error, shortened to what names the check that failed (no token, no secret). */
function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; error?: unknown };
  if (typeof e.error === "string") return `the token endpoint answered ${e.error.slice(0, 64)}`;
  const message = typeof e.message === "string" ? e.message.slice(0, 200) : "unknown failure";
  return typeof e.code === "string" ? `${e.code}: ${message}` : message;
}
