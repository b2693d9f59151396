/**
 * Turns a verdict (codes and numbers, as the policy returns them) into a decision for people and
 * logs: contributions and reasons get their title, text and control references from the bundle's
 * code catalog, in a stable order.
 */
import type { Decision, Verdict } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import type { CodeEntry } from "../contracts/metadata.js";
import { describeCode, SDK_CODES } from "./codes.js";

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

/** A code as rendering needs it, worked out once per code catalog. */
interface Described {
  readonly group: string;
  readonly rank: number;
  readonly entry: CodeEntry;
}

// Rendering runs between two evaluations, whose wasm evicts the caches: a lookup per code beats
// slicing, ranking and describing it again on every decision (1–2 µs a decision, in situ).
const described = new WeakMap<object, Map<string, Described>>();

function describe(code: string, codes: Readonly<Record<string, CodeEntry>>): Described {
  let known = described.get(codes);
  if (!known) described.set(codes, (known = new Map()));
  let found = known.get(code);
  if (!found) {
    const group = groupOf(code);
    found = { group, rank: REASON_ORDER[group] ?? 9, entry: describeCode(code, codes) };
    // Only the catalog's own codes are kept: a runtime answering with codes of its own must not
    // grow the cache without bound.
    if (Object.hasOwn(codes, code) || Object.hasOwn(SDK_CODES, code)) known.set(code, found);
  }
  return found;
}

export function render(verdict: Verdict, target: Input["target"], ctx: RenderContext): Decision {
  const { codes } = ctx;
  const contributions: Decision["risk"]["contributions"] = [];
  for (const [signal, points] of Object.entries(verdict.risk.contributions)) {
    const { group, entry } = describe(signal, codes);
    contributions.push({ signal, group, points, title: entry.title, detail: entry.message });
  }
  contributions.sort((a, b) => b.points - a.points || compare(a.signal, b.signal));
  const reasons = unique(verdict.reasons)
    .sort((a, b) => describe(a, codes).rank - describe(b, codes).rank || compare(a, b))
    .map((code) => {
      const { entry } = describe(code, codes);
      return { code, title: entry.title, message: entry.message, controls: [...entry.controls] };
    });
  const decision: Decision = {
    decision_id: ctx.decisionId,
    outcome: verdict.outcome,
    target: { app: target.app, action: target.action, tier: verdict.tier },
    risk: { score: verdict.risk.score, level: verdict.risk.level, groups: verdict.risk.groups, contributions },
    requirement: verdict.requirement,
    satisfied: verdict.satisfied,
    reasons,
    obligations: unique(verdict.obligations).sort(),
    exceptions: [...verdict.exceptions].sort((a, b) => compare(a.id, b.id)),
    policy: { revision: ctx.revision, version: verdict.policy_version },
  };
  // Only a refused document carries it; added after the literal so the common shape stays one.
  if (verdict.invalid_fields !== undefined) decision.invalid_fields = [...verdict.invalid_fields];
  return decision;
}

/** A new array of the items, each once (a list of one or none needs no set). */
function unique<T>(items: readonly T[]): T[] {
  return items.length < 2 ? [...items] : [...new Set(items)];
}

/** The group a code belongs to: the part before the first dot. */
export function groupOf(code: string): string {
  return code.slice(0, code.indexOf("."));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
