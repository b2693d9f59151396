/**
 * The WWW-Authenticate challenges, built in one place for every integration (Express, Fastify,
 * Envoy). A step-up is RFC 9470's challenge:
 *
 *   Bearer error="insufficient_user_authentication", error_description="…", acr_values="a b", max_age="300"
 *
 * with `max_age` as a quoted-string as in RFC 9470's own examples (RFC 7235 lets an auth-param be a
 * token or a quoted-string; recipients accept both). A token that does not verify gets RFC 6750's
 * `invalid_token`. A request that carried no token gets no error code (RFC 6750 section 3.1) but
 * still learns the acr_values and max_age to ask for.
 */
import type { Requirement } from "../contracts/decision.js";

export interface ChallengeOptions {
  /** The protection space, sent as `realm` when set. */
  readonly realm?: string;
}

type SessionRequirement = Extract<Requirement, { kind: "session" }>;

const LEVEL = new Set(["session.aal_insufficient", "session.not_phishing_resistant"]);
const RECENCY = new Set(["session.too_old", "session.auth_time_invalid"]);

/** The error_description for what the session lacks, from the decision's reason codes. */
export function describeGap(reasons: readonly string[]): string {
  const level = reasons.some((r) => LEVEL.has(r));
  const recency = reasons.some((r) => RECENCY.has(r));
  if (level && recency) return "A different authentication level and more recent authentication are required";
  if (level) return "A different authentication level is required";
  if (recency) return "More recent authentication is required";
  return "Stronger authentication is required";
}

/**
 * The RFC 9470 challenge for a step-up decision.
 * @example
 * stepUpChallenge({ kind: "session", aal: "aal3", phishing_resistant: true, max_age: 300, acr_values: ["phrh"] }, ["session.aal_insufficient"], true);
 * // 'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phrh", max_age="300"'
 */
export function stepUpChallenge(
  requirement: SessionRequirement,
  reasons: readonly string[],
  hadToken: boolean,
  options: ChallengeOptions = {},
): string {
  const params: [string, string][] = [];
  if (options.realm) params.push(["realm", options.realm]);
  if (hadToken) {
    params.push(["error", "insufficient_user_authentication"], ["error_description", describeGap(reasons)]);
  }
  if (requirement.acr_values.length > 0) params.push(["acr_values", requirement.acr_values.join(" ")]);
  params.push(["max_age", String(requirement.max_age)]);
  return bearer(params);
}

/** RFC 6750's challenge for a token that does not verify. */
export function invalidTokenChallenge(description: string, options: ChallengeOptions = {}): string {
  const params: [string, string][] = [];
  if (options.realm) params.push(["realm", options.realm]);
  params.push(["error", "invalid_token"], ["error_description", description]);
  return bearer(params);
}

function bearer(params: readonly [string, string][]): string {
  return `Bearer ${params.map(([k, v]) => `${k}=${quote(k === "error_description" ? describable(v) : v)}`).join(", ")}`;
}

/** An RFC 7230 quoted-string: `"` and `\` escaped, control characters dropped. */
export function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, "").replace(/["\\]/g, "\\$&")}"`;
}

// RFC 6750 section 3: error_description holds %x20-21 / %x23-5B / %x5D-7E only.
function describable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "");
}
