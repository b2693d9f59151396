/**
 * The identity-provider profile: for one provider, the token shapes it issues by default, where
 * the session's acr, amr and auth_time live, how its acr values translate into the policy's
 * (`data.stepup.config.assurance.acr`), and how a step-up is asked of it. Profiles are data
 * (src/signals/idp/profiles.json); a deployment adjusts one by passing a patch, checked against
 * this schema.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.js";

const Text = (max: number) => z.string().min(1).max(max);
export const TOKEN_KINDS = ["access_token", "id_token"] as const;
export const SESSION_CLAIMS = ["acr", "amr", "auth_time"] as const;

/** How a token of one kind looks when the provider issues it with its defaults. */
export const TokenShapeSchema = lazySchema(() => z.strictObject({
  /** The JOSE `typ` header values accepted (compared case-insensitively, `application/` prefix ignored); `null` accepts a token without one. */
  typ: z.array(z.union([Text(64), z.null()])).min(1),
  /** The claim naming the client the token was issued to (RFC 9068 `client_id`, OIDC `azp`, Okta `cid`); access tokens only. */
  client_claim: z.enum(["client_id", "azp", "cid"]).optional(),
  /** Whether every token carries a `jti` (RFC 9068 requires it; Entra ID's `uti` is not one). */
  jti: z.boolean(),
  /** Payload claims that must hold exactly these strings (Keycloak's `typ: "Bearer"` keeps ID tokens out of the bearer path). */
  claims_equal: z.record(Text(64), Text(256)).optional(),
  /** The session claims this kind of token carries by default; a verified token without them is reported once. */
  carries: z.array(z.enum(SESSION_CLAIMS)),
  /** Other names the session claims go by in this kind of token (Auth0 reserves acr, amr and auth_time: an Action sets custom ones). */
  claim_names: z.strictObject({ acr: Text(128).optional(), amr: Text(128).optional(), auth_time: Text(128).optional() }).optional(),
}));

/** One provider acr value and the policy acr value it stands for; weakest first. */
export const AcrMappingSchema = lazySchema(() => z.strictObject({
  value: Text(256),
  acr: Text(256),
}));

export const StepUpRequestSchema = lazySchema(() => z.strictObject({
  /** Send `acr_values` with the provider's values for the requirement. */
  acr_values: z.boolean(),
  /** Ask for the acr as an essential claim (OIDC Core 5.5.1.1) in the ID token, in the access token as Entra's `acrs`, or not at all. */
  essential_acr: z.enum(["id_token", "access_token_acrs", "none"]),
  /** Send the requirement's `max_age`. */
  max_age: z.boolean(),
  /** Send `prompt=login` on every step-up, for a provider that reuses its session despite acr_values. */
  prompt_login: z.boolean(),
}));

export const IdentityProviderProfileSchema = lazySchema(() => z.strictObject({
  name: Text(64).regex(/^[a-z0-9-]+$/),
  title: Text(128),
  /** The claim holding the acr: `acr` (a string) or Entra ID's `acrs` (an array of authentication-context ids). */
  acr_claim: z.enum(["acr", "acrs"]),
  /** Provider values to policy values, weakest first (the strongest present wins for an array claim). */
  acr: z.array(AcrMappingSchema).max(64),
  /** What becomes of a value the map does not name: dropped (unknown to the policy) or kept as it is. */
  unmapped_acr: z.enum(["drop", "keep"]),
  /** Which token carries the session by default for a browser app and for an API. */
  session_token: z.strictObject({ browser: z.enum(TOKEN_KINDS), api: z.enum(TOKEN_KINDS) }),
  access_token: TokenShapeSchema,
  id_token: TokenShapeSchema,
  step_up: StepUpRequestSchema,
  /** What to enable at the provider, for docs/identity-providers.md and the missing-claims report. */
  settings: z.array(Text(512)).max(16),
}));

export type IdentityProviderProfile = z.infer<typeof IdentityProviderProfileSchema>;
export type TokenShape = z.infer<typeof TokenShapeSchema>;
export type TokenKind = (typeof TOKEN_KINDS)[number];
export type SessionClaim = (typeof SESSION_CLAIMS)[number];

/** A deployment's changes to a shipped profile: any top-level field replaced. */
export const ProfilePatchSchema = lazySchema(() => IdentityProviderProfileSchema.partial());
export type ProfilePatch = z.infer<typeof ProfilePatchSchema>;
