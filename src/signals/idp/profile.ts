/**
 * The shipped identity-provider profiles (profiles.json) and a deployment's adjustments to them.
 * A profile is checked against its contract when it is asked for, so a broken patch fails at
 * start naming the field, never at the first request.
 */
import {
  IdentityProviderProfileSchema,
  ProfilePatchSchema,
  type IdentityProviderProfile,
  type ProfilePatch,
} from "../../contracts/identity-provider.js";
import { toIssues } from "../../contracts/issues.js";
import { IdpProfileInvalidError } from "../../errors.js";
import shipped from "./profiles.json" with { type: "json" };

export type ProfileName = "generic" | "keycloak" | "entra-id" | "okta" | "auth0";
export const PROFILE_NAMES = Object.keys(shipped) as ProfileName[];

/** A profile by name, or one given whole; `patch` replaces top-level fields of it. */
export type ProfileChoice = ProfileName | IdentityProviderProfile;

/**
 * Resolves a profile and checks it.
 * @example
 * const keycloak = identityProvider("keycloak", { acr: [{ value: "gold", acr: "phr" }] });
 */
export function identityProvider(choice: ProfileChoice = "generic", patch: ProfilePatch = {}): IdentityProviderProfile {
  let base: unknown;
  if (typeof choice === "string") {
    base = Object.hasOwn(shipped, choice) ? (shipped as Record<string, unknown>)[choice] : undefined;
    if (base === undefined) throw new IdpProfileInvalidError([{ path: "profile", message: `no profile named ${choice} (${PROFILE_NAMES.join(", ")})` }]);
  } else {
    base = choice;
  }
  const checkedPatch = ProfilePatchSchema.safeParse(patch);
  if (!checkedPatch.success) throw new IdpProfileInvalidError(toIssues(checkedPatch.error, "patch"));
  const parsed = IdentityProviderProfileSchema.safeParse({ ...(base as object), ...checkedPatch.data });
  if (!parsed.success) throw new IdpProfileInvalidError(toIssues(parsed.error, "profile"));
  return parsed.data;
}
