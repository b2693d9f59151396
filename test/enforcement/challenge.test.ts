import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import { answerDecision, answerInvalidToken } from "../../src/enforcement/answer.js";
import { invalidTokenChallenge, quote, stepUpChallenge } from "../../src/enforcement/challenge.js";
import { TokenInvalidError } from "../../src/errors.js";

const requirement = { kind: "session" as const, aal: "aal3" as const, phishing_resistant: true, max_age: 300, acr_values: ["http://idmanagement.gov/ns/assurance/aal/3", "phrh"] };

describe("RFC 9470 challenges", () => {
  it("asks for a different level", () => {
    expect(stepUpChallenge(requirement, ["session.aal_insufficient", "risk.elevated"], true)).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="http://idmanagement.gov/ns/assurance/aal/3 phrh", max_age="300"',
    );
  });

  it("asks for more recent authentication, and for both", () => {
    expect(stepUpChallenge({ ...requirement, acr_values: [] }, ["session.too_old"], true)).toBe(
      'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="300"',
    );
    expect(stepUpChallenge(requirement, ["session.not_phishing_resistant", "session.auth_time_invalid"], true, { realm: "api" })).toBe(
      'Bearer realm="api", error="insufficient_user_authentication", error_description="A different authentication level and more recent authentication are required", acr_values="http://idmanagement.gov/ns/assurance/aal/3 phrh", max_age="300"',
    );
  });

  it("gives no error code to a request that carried no token", () => {
    expect(stepUpChallenge(requirement, ["session.missing"], false)).toBe('Bearer acr_values="http://idmanagement.gov/ns/assurance/aal/3 phrh", max_age="300"');
  });

  it("quotes values safely", () => {
    expect(quote('a"b\\c\r\nd')).toBe('"a\\"b\\\\cd"');
    expect(invalidTokenChallenge('bad "token"\\', { realm: 'x"y' })).toBe('Bearer realm="x\\"y", error="invalid_token", error_description="bad token"');
  });
});

describe("HTTP answers", () => {
  const base: Decision = {
    decision_id: "d-1",
    outcome: "allow",
    target: { app: "wiki", action: "read", tier: "standard" },
    risk: { score: 0, level: "low", groups: {}, contributions: [] },
    requirement,
    satisfied: true,
    reasons: [],
    obligations: [],
    exceptions: [],
    policy: { revision: "r", version: "1" },
  };
  const reason = (code: string) => ({ code, title: code, message: code, controls: [] });

  it("lets an allow through", () => {
    expect(answerDecision(base, true)).toEqual({ proceed: true, status: 200, headers: {}, body: null });
  });

  it("answers a step-up with 401, the challenge and a body naming the decision", () => {
    const answer = answerDecision({ ...base, outcome: "step_up", reasons: [reason("session.aal_insufficient")] }, true);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toContain('error="insufficient_user_authentication"');
    expect(answer.body).toEqual({
      error: "insufficient_user_authentication",
      error_description: "A different authentication level is required",
      decision_id: "d-1",
      reasons: ["session.aal_insufficient"],
      acr_values: requirement.acr_values,
      max_age: 300,
    });
  });

  it("answers a deny with 403 and the decision id and reason codes only", () => {
    const answer = answerDecision({ ...base, outcome: "deny", reasons: [reason("stop.malicious_ip")] }, true);
    expect(answer).toMatchObject({ proceed: false, status: 403, body: { error: "access_denied", decision_id: "d-1", reasons: ["stop.malicious_ip"] } });
    expect(answer.headers["www-authenticate"]).toBeUndefined();
  });

  it("never prompts a workload: a step-up on a workload requirement is 403", () => {
    const workload = { kind: "workload" as const, proof: ["spiffe_svid" as const], max_lifetime: 3600, storage: [], missing: [] };
    expect(answerDecision({ ...base, outcome: "step_up", requirement: workload }, true).status).toBe(403);
  });

  it("answers a bad token with invalid_token, saying only whether it expired", () => {
    expect(answerInvalidToken(new TokenInvalidError("expired", "x")).headers["www-authenticate"]).toBe('Bearer error="invalid_token", error_description="The access token expired"');
    expect(answerInvalidToken(new TokenInvalidError("signature", "x")).body).toEqual({ error: "invalid_token", error_description: "The access token is invalid" });
  });
});
