/**
 * From a verified token's claims to the session signals of the input contract, through an
 * identity-provider profile: the acr read from `acr` (a string) or Entra ID's `acrs` (an array,
 * whose strongest mapped value wins) and translated into the policy's value; amr as RFC 8176
 * values; auth_time as Unix seconds. A claim that is present but malformed is unknown (null),
 * never trusted, and a provider value the profile does not map is dropped unless the profile
 * keeps values as they are.
 */
import type { JWTPayload } from "jose";
import type { Input } from "../../contracts/input.js";
import type { IdentityProviderProfile, TokenShape } from "../../contracts/identity-provider.js";

export type Session = NonNullable<Input["session"]>;

/** Other names for the session claims in a token (a token shape's `claim_names`). */
export type ClaimNames = TokenShape["claim_names"];

const MAX_ACR = 256;

/**
 * @example
 * sessionOf({ acr: "mfa", amr: ["pwd", "otp"], auth_time: 1795851600 }, identityProvider("keycloak"));
 * // { acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"], auth_time: 1795851600 }
 */
export function sessionOf(payload: JWTPayload, profile: IdentityProviderProfile, names: ClaimNames = {}): Session {
  return {
    acr: acrOf(payload, profile, names),
    amr: amrOf(payload[names.amr ?? "amr"]),
    auth_time: unixSeconds(payload[names.auth_time ?? "auth_time"]),
  };
}

/** The provider's acr value(s) as the token states them, before any mapping (null when malformed or absent). */
export function providerAcr(payload: JWTPayload, profile: IdentityProviderProfile, names: ClaimNames = {}): string[] | null {
  const raw = payload[names.acr ?? profile.acr_claim];
  if (profile.acr_claim === "acr") return isAcr(raw) ? [raw] : null;
  if (!Array.isArray(raw) || raw.length > 64 || !raw.every(isAcr)) return null;
  return raw as string[];
}

/** The policy acr value a provider value stands for, per the profile; null when the profile drops it. */
export function mapAcr(value: string, profile: IdentityProviderProfile): string | null {
  const mapped = profile.acr.find((m) => m.value === value);
  if (mapped) return mapped.acr;
  return profile.unmapped_acr === "keep" ? value : null;
}

/** The provider values a profile maps to any of the policy's acr values, in the profile's order, once each. */
export function providerValuesFor(policyAcrValues: readonly string[], profile: IdentityProviderProfile): string[] {
  const wanted = new Set(policyAcrValues);
  const out: string[] = [];
  for (const m of profile.acr) if (wanted.has(m.acr) && !out.includes(m.value)) out.push(m.value);
  if (profile.unmapped_acr === "keep") {
    const mappedAway = new Set(profile.acr.map((m) => m.value));
    for (const value of policyAcrValues) if (!mappedAway.has(value) && !out.includes(value)) out.push(value);
  }
  return out;
}

function acrOf(payload: JWTPayload, profile: IdentityProviderProfile, names: ClaimNames): string | null {
  const values = providerAcr(payload, profile, names);
  if (values === null) return null;
  // The profile lists values weakest first: of several (Entra's acrs), the last one present wins.
  let best: { rank: number; acr: string } | null = null;
  for (const value of values) {
    const rank = profile.acr.findIndex((m) => m.value === value);
    const acr = mapAcr(value, profile);
    if (acr !== null && (best === null || rank > best.rank)) best = { rank, acr };
  }
  return best?.acr ?? null;
}

function isAcr(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ACR;
}

function amrOf(value: unknown): string[] | null {
  return Array.isArray(value) && value.length <= 16 && value.every((m) => typeof m === "string" && m.length > 0 && m.length <= 64)
    ? (value as string[])
    : null;
}

export function unixSeconds(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 253_402_300_799 ? value : null;
}
