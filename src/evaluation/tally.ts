/**
 * Counts of one replay: for established users' legitimate requests, how many were prompted or
 * denied, by tier; for each attack class, how many were caught (stepped up or denied), by tier;
 * and the signals and reasons behind false prompts and behind misses.
 */
import type { Label } from "../contracts/evaluation.js";
import type { Decision } from "../contracts/decision.js";

export type TierName = "low" | "standard" | "high" | "critical";
export const TIERS: readonly TierName[] = ["low", "standard", "high", "critical"];

/** How many, and of those how many were flagged (prompted or denied; for attacks, caught). */
export interface Rate {
  total: number;
  flagged: number;
}

export class Tally {
  /** Established users' legitimate requests, by tier. */
  readonly legitimate = rates();
  /** Every legitimate request, established or not. */
  readonly allLegitimate = rates();
  readonly legitimateOutcomes = { allow: 0, step_up: 0, deny: 0 };
  /** By attack class, by tier. */
  readonly attacks = new Map<string, Record<TierName, Rate>>();
  /** Signals and reasons behind false prompts of established users, and behind missed attacks. */
  readonly falsePromptCauses = new Map<string, number>();
  readonly missCauses = new Map<string, number>();

  add(label: Label, decision: Decision, established: boolean): void {
    const tier = decision.target.tier;
    const flagged = decision.outcome !== "allow";
    if (label === "legitimate") {
      count(this.allLegitimate[tier], flagged);
      if (!established) return;
      count(this.legitimate[tier], flagged);
      this.legitimateOutcomes[decision.outcome]++;
      if (flagged) causes(this.falsePromptCauses, decision);
      return;
    }
    let byTier = this.attacks.get(label);
    if (!byTier) this.attacks.set(label, (byTier = rates()));
    count(byTier[tier], flagged);
    if (!flagged) causes(this.missCauses, decision);
  }
}

function rates(): Record<TierName, Rate> {
  return { low: { total: 0, flagged: 0 }, standard: { total: 0, flagged: 0 }, high: { total: 0, flagged: 0 }, critical: { total: 0, flagged: 0 } };
}

function count(rate: Rate, flagged: boolean): void {
  rate.total++;
  if (flagged) rate.flagged++;
}

// A false prompt's causes are the signals that counted and the reasons given; a miss's, the
// signals that counted too little (and "no signal" when there were none).
function causes(into: Map<string, number>, decision: Decision): void {
  const codes = decision.risk.contributions.map((c) => c.signal);
  if (decision.outcome !== "allow") codes.push(...decision.reasons.map((r) => r.code));
  if (codes.length === 0) codes.push("(no signal)");
  for (const code of new Set(codes)) into.set(code, (into.get(code) ?? 0) + 1);
}

/** The sum over tiers. */
export function overall(byTier: Readonly<Record<TierName, Rate>>): Rate {
  return TIERS.reduce((sum, tier) => ({ total: sum.total + byTier[tier].total, flagged: sum.flagged + byTier[tier].flagged }), { total: 0, flagged: 0 });
}
