/**
 * Decision events whose verdict carries an exception, for the review trail. The current policy
 * never applies exceptions (the complete policy will); these verdicts are built to the verdict
 * contract by hand and validated with it, so the shape is the one the policy must return.
 */
import { randomUUID } from "node:crypto";
import type { Verdict } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import { render } from "../../src/decision/render.js";
import { parseVerdict } from "../../src/decision/verdict.js";

export function exceptionVerdict(id = "brk-001", obligations: Verdict["obligations"] = ["log_for_review"]): Verdict {
  return parseVerdict({
    outcome: "allow",
    tier: "critical",
    risk: { score: 30, level: "medium", groups: { device: 30 }, contributions: { "device.unmanaged": 30 } },
    requirement: { kind: "session", aal: "aal2", phishing_resistant: false, max_age: 900, acr_values: [] },
    satisfied: true,
    reasons: ["exception.applied"],
    obligations,
    exceptions: [
      { id, kind: "break_glass", expires_at: 1796000000, approver: "ciso@example.com", relaxed: ["session.not_phishing_resistant"] },
    ],
    policy_version: "1.0.0",
  });
}

export function exceptionEvent(input: Input, verdict = exceptionVerdict()): DecisionEvent {
  const decision = render(verdict, input.target, { decisionId: randomUUID(), revision: "test-revision", codes: {} });
  return { input, decision, verdict, durationNs: 42_000 };
}
