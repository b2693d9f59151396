/**
 * From a decision to an HTTP answer, the same for every framework: allow goes on; step_up is 401
 * with the RFC 9470 challenge; deny is 403 with a JSON body naming the decision id and the reason
 * codes (never the input, the risk detail or the token). A workload is never prompted, so a
 * step-up on a workload requirement is a 403 too.
 */
import type { Decision } from "../contracts/decision.js";
import type { TokenInvalidError } from "../errors.js";
import { describeGap, invalidTokenChallenge, stepUpChallenge, type ChallengeOptions } from "./challenge.js";

export interface HttpAnswer {
  /** True when the request may go on to its handler. */
  readonly proceed: boolean;
  /** The status to answer with when it may not (200 when it may). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>> | null;
}

const REFUSAL_HEADERS = { "cache-control": "no-store", "content-type": "application/json; charset=utf-8" };

/** The answer for a decision; `hadToken` says whether the request carried a bearer token. */
export function answerDecision(decision: Decision, hadToken: boolean, options: ChallengeOptions = {}): HttpAnswer {
  const reasons = decision.reasons.map((r) => r.code);
  const req = decision.requirement;
  if (decision.outcome === "allow") return { proceed: true, status: 200, headers: {}, body: null };
  if (decision.outcome === "step_up" && req.kind === "session") {
    return {
      proceed: false,
      status: 401,
      headers: { ...REFUSAL_HEADERS, "www-authenticate": stepUpChallenge(req, reasons, hadToken, options) },
      body: {
        error: "insufficient_user_authentication",
        error_description: describeGap(reasons),
        decision_id: decision.decision_id,
        reasons,
        acr_values: req.acr_values,
        max_age: req.max_age,
      },
    };
  }
  return {
    proceed: false,
    status: 403,
    headers: REFUSAL_HEADERS,
    body: { error: "access_denied", decision_id: decision.decision_id, reasons },
  };
}

/** The answer for a bearer token that does not verify (RFC 6750 `invalid_token`). */
export function answerInvalidToken(error: TokenInvalidError, options: ChallengeOptions = {}): HttpAnswer {
  const description = error.reason === "expired" ? "The access token expired" : "The access token is invalid";
  return {
    proceed: false,
    status: 401,
    headers: { ...REFUSAL_HEADERS, "www-authenticate": invalidTokenChallenge(description, options) },
    body: { error: "invalid_token", error_description: description },
  };
}
