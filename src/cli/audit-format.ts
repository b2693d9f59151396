/** Text for people from the replay and review reports. */
import type { MaskedCounts, VerifyReport, WhatIfReport } from "../audit/replay.js";
import type { ReviewRecord } from "../audit/review.js";
import { summaryText, type RateRow, type ReviewReport } from "../audit/review-report.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatVerify(r: VerifyReport): string {
  const lines = [
    `replayed ${r.events} decisions on their own revisions: ${r.reproduced} reproduced (${pct(r.events ? r.reproduced / r.events : 0)})`,
  ];
  if (r.differed) lines.push(`  ${r.differed} came out differently${r.differed_masked ? ` (${r.differed_masked} of them had a masked input)` : ""}`);
  lines.push(...formatMasked(r));
  if (r.unreplayable) lines.push(`  ${r.unreplayable} could not be replayed: their logged input is not a valid input`);
  for (const [rev, n] of Object.entries(r.missing_revisions)) lines.push(`  ${n} name revision ${rev || "(none)"}, which the store does not hold`);
  lines.push(`  revisions: ${Object.entries(r.revisions).map(([rev, n]) => `${rev || "(none)"} ×${n}`).join(", ")}`);
  for (const e of r.examples) {
    lines.push(`  ✗ ${e.decision_id} (${e.app ?? "?"}, revision ${e.revision ?? "?"}): logged ${e.logged}, now ${e.replayed}${e.input_masked ? " — input was masked" : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatWhatIf(r: WhatIfReport): string {
  const lines = [
    `what if: ${r.events} logged decisions evaluated on candidate revision ${r.candidate_revision}`,
    `  outcome changed: ${r.changed_outcome}; same outcome, other change (requirement, reasons, risk): ${r.changed_other}`,
    `  prompt rate (step_up): ${pct(r.prompt_rate.before)} → ${pct(r.prompt_rate.after)}; deny rate: ${pct(r.deny_rate.before)} → ${pct(r.deny_rate.after)}`,
  ];
  lines.push(...formatMasked(r));
  if (r.unreplayable) lines.push(`  ${r.unreplayable} events skipped: their logged input is not a valid input`);
  lines.push("", "transitions:");
  const transitions = Object.entries(r.transitions).sort(([a, x], [b, y]) => changedFirst(a, b) || y - x);
  for (const [t, n] of transitions) lines.push(`  ${t.padEnd(22)} ${n}`);
  const reasons = Object.entries(r.by_reason).filter(([, v]) => v.gained || v.lost);
  if (reasons.length) {
    lines.push("", "reasons (decisions before → after, gained, lost):");
    for (const [code, v] of reasons.sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`  ${code.padEnd(36)} ${v.before} → ${v.after}  +${v.gained} −${v.lost}`);
    }
  }
  const apps = Object.entries(r.by_app).filter(([, v]) => v.changed > 0);
  if (apps.length) {
    lines.push("", "apps with changes:");
    for (const [app, v] of apps.sort(([, a], [, b]) => b.changed - a.changed)) {
      const t = Object.entries(v.transitions).map(([k, n]) => `${k} ${n}`).join(", ");
      lines.push(`  ${app.padEnd(24)} ${v.changed}/${v.decisions} changed: ${t}`);
    }
  }
  if (r.examples.length) {
    lines.push("", "examples:");
    for (const e of r.examples) lines.push(`  ${e.decision_id} (${e.app ?? "?"}): ${e.logged} → ${e.replayed}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Decisions masked where the policy reads: named, never counted as reproduced or changed. */
function formatMasked(r: MaskedCounts): string[] {
  if (r.masked === 0) return [];
  const paths = Object.entries(r.masked_paths).map(([p, n]) => `${p} (${n})`).join(", ");
  return [
    `  ${r.masked} not replayable: masked at ${paths} — the policy reads it, so replaying the masked input would decide another request`,
    ...r.masked_examples.map((e) => `    ${e.decision_id}: masked at ${e.paths.join(", ")}`),
  ];
}

function changedFirst(a: string, b: string): number {
  const same = (t: string) => t.split("→")[0] === t.split("→")[1];
  return Number(same(a)) - Number(same(b));
}

export function formatReview(records: readonly ReviewRecord[], since: Date): string {
  if (records.length === 0) return `no exception used since ${since.toISOString()}\n`;
  const lines = [`${records.length} exception uses since ${since.toISOString()}, each to be reviewed:`, ""];
  for (const r of records) {
    const e = r.exception;
    const flag = r.review_required ? "" : "  ⚠ no log_for_review obligation (policy bug?)";
    lines.push(
      `${r.timestamp}  ${e.id} (${e.kind}, approved by ${e.approver}, expires ${new Date(e.expires_at * 1000).toISOString()})` +
        `  ${r.action ?? "?"} on ${r.app ?? "?"} → ${r.outcome ?? "?"}; relaxed ${e.relaxed.join(", ") || "nothing"}` +
        `  [decision ${r.decision_id}, subject ${r.subject ?? "?"}, revision ${r.revision ?? "?"}]${flag}`,
    );
  }
  const byId = new Map<string, number>();
  for (const r of records) byId.set(r.exception.id, (byId.get(r.exception.id) ?? 0) + 1);
  lines.push("", "by exception:", ...[...byId].map(([id, n]) => `  ${id}: ${n} use${n === 1 ? "" : "s"}`));
  return `${lines.join("\n")}\n`;
}

/** The review as text: the summary (the HTML page's, word for word), the tables, then each exception use. */
export function formatReviewReport(r: ReviewReport): string {
  const lines = [summaryText(r)];
  const rates = (title: string, rows: readonly RateRow[]) => {
    if (rows.length === 0) return;
    lines.push("", `${title} (decisions, prompt rate, deny rate):`);
    for (const row of rows) lines.push(`  ${row.key.padEnd(36)} ${String(row.decisions).padStart(7)}  ${pct(row.prompt_rate).padStart(6)}  ${pct(row.deny_rate).padStart(6)}`);
  };
  rates("by tier", r.by_tier);
  rates("by app", r.by_app);
  rates("by signal", r.by_signal);
  if (r.prompt_reasons.length > 0) {
    lines.push("", "reasons behind prompts (step-up decisions, share):");
    for (const p of r.prompt_reasons) lines.push(`  ${p.reason.padEnd(36)} ${String(p.decisions).padStart(7)}  ${pct(p.share).padStart(6)}`);
  }
  if (r.comparison) {
    lines.push("", "transitions (enforced → candidate):");
    for (const t of r.comparison.transitions) lines.push(`  ${`${t.from}→${t.to}`.padEnd(22)} ${t.decisions}`);
    for (const [title, rows] of [["subjects most affected", r.comparison.subjects], ["apps most affected", r.comparison.apps]] as const) {
      if (rows.length === 0) continue;
      lines.push("", `${title} (changed/decisions: stricter, more lenient):`);
      for (const row of rows) lines.push(`  ${row.key.padEnd(36)} ${row.changed}/${row.decisions}: ${row.stricter} stricter, ${row.more_lenient} more lenient`);
    }
  }
  lines.push("", formatReview(r.exception_uses, new Date(r.window.since ?? r.window.first ?? 0)).trimEnd());
  return `${lines.join("\n")}\n`;
}
