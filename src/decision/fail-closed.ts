/**
 * The decision given when the policy could not decide. A failure to decide is itself a decision:
 * the SDK cannot know the target's tier without the policy, so it treats every target as
 * sensitive and denies.
 */
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import type { StepupErrors } from "../errors.js";
import { describeCode } from "./codes.js";
import type { RenderContext } from "./render.js";

export function failClosed(input: Input, error: StepupErrors, ctx: RenderContext): Decision {
  const entry = describeCode("engine.failure", ctx.codes);
  return {
    decision_id: ctx.decisionId,
    outcome: "deny",
    target: { app: input.target.app, action: input.target.action, tier: "critical" },
    risk: { score: 0, level: "low", groups: {}, contributions: [] },
    requirement:
      input.subject.kind === "human"
        ? { kind: "session", aal: "aal3", phishing_resistant: true, max_age: 0, acr_values: [] }
        : { kind: "workload", proof: [], max_lifetime: 0, storage: [], missing: ["engine.failure"] },
    satisfied: false,
    reasons: [{ code: "engine.failure", title: entry.title, message: entry.message, controls: [...entry.controls] }],
    obligations: ["notify_security"],
    exceptions: [],
    policy: { revision: ctx.revision, version: "unknown" },
    error: { code: error.code, message: error.message },
  };
}
