/**
 * Turns a verdict (codes and numbers, as the policy returns them) into a decision for people and
 * logs: contributions and reasons get their title, text and control references from the bundle's
 * code catalog, in a stable order.
 */
import type { Decision, Verdict } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import type { CodeEntry } from "../contracts/metadata.js";
import { describeCode } from "./codes.js";

export interface RenderContext {
  readonly decisionId: string;
  readonly revision: string;
  readonly codes: Readonly<Record<string, CodeEntry>>;
}

// Hard stops first, then what the session lacks, then what raised the requirement.
const REASON_ORDER: Readonly<Record<string, number>> = {
  stop: 0,
  credential: 1,
  session: 2,
  risk: 3,
  target: 4,
  exception: 5,
};

export function render(verdict: Verdict, input: Input, ctx: RenderContext): Decision {
  const contributions = Object.entries(verdict.risk.contributions)
    .map(([signal, points]) => {
      const entry = describeCode(signal, ctx.codes);
      return { signal, group: groupOf(signal), points, title: entry.title, detail: entry.message };
    })
    .sort((a, b) => b.points - a.points || compare(a.signal, b.signal));
  const reasons = [...new Set(verdict.reasons)]
    .sort((a, b) => rank(a) - rank(b) || compare(a, b))
    .map((code) => {
      const entry = describeCode(code, ctx.codes);
      return { code, title: entry.title, message: entry.message, controls: [...entry.controls] };
    });
  return {
    decision_id: ctx.decisionId,
    outcome: verdict.outcome,
    target: { app: input.target.app, action: input.target.action, tier: verdict.tier },
    risk: { score: verdict.risk.score, level: verdict.risk.level, groups: verdict.risk.groups, contributions },
    requirement: verdict.requirement,
    satisfied: verdict.satisfied,
    reasons,
    obligations: [...new Set(verdict.obligations)].sort(),
    exceptions: [...verdict.exceptions].sort((a, b) => compare(a.id, b.id)),
    policy: { revision: ctx.revision, version: verdict.policy_version },
  };
}

/** The group a code belongs to: the part before the first dot. */
export function groupOf(code: string): string {
  return code.slice(0, code.indexOf("."));
}

function rank(code: string): number {
  return REASON_ORDER[groupOf(code)] ?? 9;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
