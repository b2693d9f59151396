/**
 * The evaluation as a person reads it (a Markdown table per candidate, side by side when there are
 * several, and the causes of false prompts and misses) and as JSON.
 */
import { AttackClass } from "../contracts/evaluation.js";
import type { CandidateResult } from "./evaluate.js";
import { TIERS, overall, type Rate, type TierName } from "./tally.js";

export interface EvaluationReport {
  readonly candidates: readonly {
    readonly name: string;
    readonly revision: string;
    /** Established users' legitimate requests prompted or denied. */
    readonly legitimate: { readonly overall: Rate; readonly tiers: Readonly<Record<TierName, Rate>> };
    readonly legitimateOutcomes: Readonly<Record<"allow" | "step_up" | "deny", number>>;
    /** Attacks caught (stepped up or denied), by class. */
    readonly attacks: Readonly<Record<string, { readonly overall: Rate; readonly tiers: Readonly<Record<TierName, Rate>> }>>;
    readonly falsePromptCauses: Readonly<Record<string, number>>;
    readonly missCauses: Readonly<Record<string, number>>;
  }[];
}

export function reportOf(results: readonly CandidateResult[]): EvaluationReport {
  return {
    candidates: results.map(({ name, revision, tally }) => ({
      name,
      revision,
      legitimate: { overall: overall(tally.legitimate), tiers: tally.legitimate },
      legitimateOutcomes: tally.legitimateOutcomes,
      attacks: Object.fromEntries(
        AttackClass.options.filter((c) => tally.attacks.has(c)).map((c) => [c, { overall: overall(tally.attacks.get(c)!), tiers: tally.attacks.get(c)! }]),
      ),
      falsePromptCauses: sorted(tally.falsePromptCauses),
      missCauses: sorted(tally.missCauses),
    })),
  };
}

function sorted(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** The report as Markdown: the rates table, then the causes. */
export function markdownOf(report: EvaluationReport, causes = 8): string {
  const lines: string[] = [];
  const names = report.candidates.map((c) => c.name);
  const header = ["", ...report.candidates.flatMap((c) => [report.candidates.length > 1 ? c.name : "overall", ...TIERS])];
  lines.push(`| ${header.join(" | ")} |`, `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`);
  const row = (label: string, pick: (c: EvaluationReport["candidates"][number]) => { overall: Rate; tiers: Readonly<Record<TierName, Rate>> } | undefined) =>
    lines.push(`| ${[label, ...report.candidates.flatMap((c) => {
      const r = pick(c);
      return r ? [rate(r.overall, true), ...TIERS.map((t) => rate(r.tiers[t]))] : ["", ...TIERS.map(() => "")];
    })].join(" | ")} |`);
  row("established users' legitimate requests prompted or denied", (c) => c.legitimate);
  for (const attack of AttackClass.options) {
    if (report.candidates.some((c) => c.attacks[attack])) row(`${attack.replaceAll("_", " ")} caught`, (c) => c.attacks[attack]);
  }
  for (const c of report.candidates) {
    const title = names.length > 1 ? ` (${c.name})` : "";
    lines.push("", `Behind false prompts${title}: ${top(c.falsePromptCauses, causes)}`, "", `Behind misses${title}: ${top(c.missCauses, causes)}`);
  }
  return `${lines.join("\n")}\n`;
}

function rate(r: Rate, counts = false): string {
  if (r.total === 0) return "–";
  const pct = `${((100 * r.flagged) / r.total).toFixed(1)} %`;
  return counts ? `${pct} (${r.flagged.toLocaleString("en")} / ${r.total.toLocaleString("en")})` : pct;
}

function top(causes: Readonly<Record<string, number>>, n: number): string {
  const entries = Object.entries(causes).slice(0, n);
  return entries.length === 0 ? "none" : entries.map(([code, count]) => `\`${code}\` ${count.toLocaleString("en")}`).join(", ");
}
