/**
 * A step-up requirement on the relying party's side, and the two things done with it: the
 * authorization request parameters that ask the provider for it (through the provider's profile:
 * its acr values, the essential acr claim or Entra's acrs, max_age, prompt=login), and the check
 * of what the provider answered (an acr at least as strong as the weakest one asked for, an
 * auth_time within max_age). The requirement comes from stepup's decision (browser apps) or from
 * an RFC 9470 challenge (API clients); either way its acr values are the policy's.
 */
import type { JWTPayload } from "jose";
import type { Decision } from "../../contracts/decision.js";
import type { IdentityProviderProfile } from "../../contracts/identity-provider.js";
import { IdpRequirementUnsupportedError } from "../../errors.js";
import { providerAcr, providerValuesFor, unixSeconds } from "../../signals/idp/claims.js";

export interface StepUpRequirement {
  /** The policy's acr values, any of which meets the requirement (RFC 9470 `acr_values`); empty for any. */
  readonly acrValues: readonly string[];
  /** Seconds since authentication allowed (RFC 9470 `max_age`), or null for no limit. */
  readonly maxAge: number | null;
  /** An Entra ID claims challenge's claims request, passed on as it came. */
  readonly claims?: string;
}

/** The requirement of a step-up decision, or null when the decision is not a session step-up. */
export function requirementOf(decision: Decision): StepUpRequirement | null {
  const req = decision.requirement;
  if (decision.outcome !== "step_up" || req.kind !== "session") return null;
  return { acrValues: [...req.acr_values], maxAge: req.max_age };
}

/** A stable key for a requirement, to notice the same one asked for again. */
export function requirementKey(req: StepUpRequirement): string {
  return JSON.stringify([[...req.acrValues].sort(), req.maxAge, req.claims ?? null]);
}

/**
 * The authorization request parameters for a requirement. The second attempt always adds
 * `prompt=login`, so a provider that reused its session gets one chance to authenticate afresh.
 * @example
 * authorizationParameters({ acrValues: ["http://idmanagement.gov/ns/assurance/aal/2"], maxAge: 3600 }, identityProvider("keycloak"), 1);
 * // { acr_values: "mfa", claims: '{"id_token":{"acr":{"essential":true,"values":["mfa"]}}}', max_age: "3600" }
 */
export function authorizationParameters(req: StepUpRequirement, profile: IdentityProviderProfile, attempt: number): Record<string, string> {
  const params: Record<string, string> = {};
  const values = providerValuesFor(req.acrValues, profile);
  if (req.claims !== undefined) {
    params.claims = req.claims;
  } else {
    if (req.acrValues.length > 0 && values.length === 0) throw new IdpRequirementUnsupportedError(profile.name, req.acrValues);
    if (values.length > 0 && profile.step_up.acr_values) params.acr_values = values.join(" ");
    if (values.length > 0 && profile.step_up.essential_acr === "id_token") {
      params.claims = JSON.stringify({ id_token: { acr: { essential: true, values } } });
    } else if (values.length > 0 && profile.step_up.essential_acr === "access_token_acrs") {
      const acrs = values.length === 1 ? { essential: true, value: values[0] } : { essential: true, values };
      params.claims = JSON.stringify({ access_token: { acrs } });
    }
  }
  if (req.maxAge !== null && profile.step_up.max_age) params.max_age = String(req.maxAge);
  if (profile.step_up.prompt_login || attempt > 1) params.prompt = "login";
  return params;
}

/** What the provider answered, against the requirement. */
export interface Assessment {
  readonly met: boolean;
  /** `acr` (weaker than asked, or none) and `auth_time` (older than max_age, or none). */
  readonly shortfalls: readonly ("acr" | "auth_time")[];
  /** The provider's acr value(s) as the token states them. */
  readonly acr: string | null;
  readonly authTime: number | null;
}

/**
 * Checks a verified token's claims against a requirement: its acr is one the profile ranks at
 * least as strong as the weakest value asked for (a profile that keeps values as they are needs
 * one of them exactly), and its auth_time is no older than max_age (with `skewSec` of tolerance).
 */
export function assess(claims: JWTPayload, req: StepUpRequirement, profile: IdentityProviderProfile, now: number, skewSec = 60): Assessment {
  const shortfalls: ("acr" | "auth_time")[] = [];
  const returned = providerAcr(claims, profile) ?? [];
  const asked = req.claims === undefined ? providerValuesFor(req.acrValues, profile) : [];
  if (asked.length > 0 && !returned.some((value) => strongEnough(value, asked, profile))) shortfalls.push("acr");
  const authTime = unixSeconds(claims.auth_time);
  if (req.maxAge !== null && (authTime === null || now - authTime > req.maxAge + skewSec)) shortfalls.push("auth_time");
  return { met: shortfalls.length === 0, shortfalls, acr: returned.length > 0 ? returned.join(" ") : null, authTime };
}

function strongEnough(value: string, asked: readonly string[], profile: IdentityProviderProfile): boolean {
  if (asked.includes(value)) return true;
  const rank = (v: string) => profile.acr.findIndex((m) => m.value === v);
  const weakest = Math.min(...asked.map(rank).filter((r) => r >= 0));
  return rank(value) >= 0 && Number.isFinite(weakest) && rank(value) >= weakest;
}
