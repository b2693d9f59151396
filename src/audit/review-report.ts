/**
 * The review of a window of decision logs, for a security lead: outcomes over time; prompt and
 * deny rates by tier, app and signal; the reasons behind prompts; the exceptions used, by whom and
 * until when; and for a comparison — a what-if of a candidate bundle over the logged inputs, or a
 * report-only rollout's own shadow outcomes — the transitions and the subjects and apps most
 * affected. One report feeds the text, the JSON (`stepup review --json`) and the HTML page
 * (review-html.ts); its summary lines are the same in all three.
 */
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import type { Engine } from "../engine/engine.js";
import type { PolicyRead } from "./policy-reads.js";
import { replayableInput, whatIfEvent } from "./replay.js";
import { eventRevision, reviewRecords, type ReviewRecord } from "./review.js";

export type ReviewKind = "window" | "what_if" | "shadow";
const OUTCOMES = ["allow", "step_up", "deny"] as const;
type Outcome = (typeof OUTCOMES)[number];
const RANK: Record<Outcome, number> = { allow: 0, step_up: 1, deny: 2 };

/** Decisions and their prompt and deny rates, for one tier, app or signal. */
export interface RateRow {
  readonly key: string;
  readonly decisions: number;
  readonly step_up: number;
  readonly deny: number;
  readonly prompt_rate: number;
  readonly deny_rate: number;
}

/** One exception: its uses in the window, by subject, and until when it holds. */
export interface ExceptionUse {
  readonly id: string;
  readonly kind: string;
  readonly approver: string;
  /** Unix seconds, as in the verdict. */
  readonly expires_at: number;
  readonly uses: number;
  readonly first_use: string;
  readonly last_use: string;
  readonly subjects: { readonly subject: string; readonly uses: number }[];
  /** Whether it has expired by the window's end, or expires within 7 days of it. */
  readonly expired: boolean;
  readonly expires_soon: boolean;
}

/** A subject or an app, and how the candidate changed its decisions. */
export interface AffectedRow {
  readonly key: string;
  readonly decisions: number;
  readonly changed: number;
  /** Outcomes the candidate makes stricter (allow → step_up, step_up → deny, …) and more lenient. */
  readonly stricter: number;
  readonly more_lenient: number;
}

/** The numbers at the top of every form of the review. */
export interface ReviewSummary {
  readonly decisions: number;
  readonly allow: number;
  readonly step_up: number;
  readonly deny: number;
  /** Decisions the SDK failed closed (counted in deny too). */
  readonly failed_closed: number;
  readonly prompt_rate: number;
  readonly deny_rate: number;
  readonly subjects: number;
  readonly apps: number;
  readonly exception_uses: number;
  readonly exceptions: number;
  /** For a comparison: decisions the candidate decided, and how many it decided otherwise. */
  readonly compared?: number;
  readonly changed?: number;
  readonly stricter?: number;
  readonly more_lenient?: number;
  readonly agreement_rate?: number;
  readonly candidate_prompt_rate?: number;
  readonly candidate_deny_rate?: number;
  /** Decisions the candidate could not make (its fail-closed deny). */
  readonly candidate_failures?: number;
  /** Decisions not compared: masked where the candidate reads, unreplayable, or skipped by a full shadow queue. */
  readonly not_compared?: number;
}

export interface ReviewComparison {
  readonly candidate_revisions: Record<string, number>;
  /** Every pair, unchanged ones included. */
  readonly transitions: { readonly from: Outcome; readonly to: Outcome; readonly decisions: number }[];
  readonly subjects: AffectedRow[];
  readonly apps: AffectedRow[];
}

export interface ReviewReport {
  readonly kind: ReviewKind;
  /** The window asked for, and the first and last event in it (ISO times; null when open or empty). */
  readonly window: { readonly since: string | null; readonly until: string | null; readonly first: string | null; readonly last: string | null };
  /** Events per enforced revision. */
  readonly revisions: Record<string, number>;
  readonly summary: ReviewSummary;
  /** How outcomes over time are bucketed: by hour for up to two days, by day up to 120, else by week. */
  readonly bucket: "hour" | "day" | "week";
  readonly outcomes_over_time: { readonly bucket: string; readonly outcome: Outcome; readonly decisions: number }[];
  readonly by_tier: RateRow[];
  readonly by_app: RateRow[];
  readonly by_signal: RateRow[];
  /** Reason codes given with step-up decisions, and the share of step-ups that gave each. */
  readonly prompt_reasons: { readonly reason: string; readonly decisions: number; readonly share: number }[];
  readonly exceptions: ExceptionUse[];
  /** Every use of an exception, oldest first. */
  readonly exception_uses: ReviewRecord[];
  readonly comparison?: ReviewComparison;
}

/** The candidate of a what-if: its engine, the input paths its policy reads, and its revision. */
export interface ReviewCandidate {
  readonly revision: string;
  readonly engine: Engine;
  readonly reads: readonly PolicyRead[];
}

export interface ReviewOptions {
  /** Epoch ms; events before it are left out. */
  readonly since?: number;
  /** Epoch ms; events after it are left out. */
  readonly until?: number;
  /** Evaluate the logged inputs on this candidate (what-if); otherwise the logs' shadow outcomes, if any. */
  readonly candidate?: ReviewCandidate;
  /** Rows kept in the app, subject and signal tables (20 by default; tiers, reasons and transitions are bounded sets). */
  readonly top?: number;
}

interface Counts {
  decisions: number;
  step_up: number;
  deny: number;
}

interface Affected {
  decisions: number;
  changed: number;
  stricter: number;
  more_lenient: number;
}

/** Counts events into a review, in log order. */
export class ReviewTally {
  private decisions = 0;
  private readonly outcomes: Record<Outcome, number> = { allow: 0, step_up: 0, deny: 0 };
  private failedClosed = 0;
  private first: number | undefined;
  private last: number | undefined;
  private readonly revisions: Record<string, number> = {};
  private readonly times = new Map<number, Record<Outcome, number>>();
  private readonly tiers = new Map<string, Counts>();
  private readonly apps = new Map<string, Counts>();
  private readonly signals = new Map<string, Counts>();
  private readonly reasons = new Map<string, number>();
  private readonly subjects = new Set<string>();
  private readonly uses: ReviewRecord[] = [];
  // The comparison.
  private compared = 0;
  private notCompared = 0;
  private candidateFailures = 0;
  private readonly candidateOutcomes: Record<Outcome, number> = { allow: 0, step_up: 0, deny: 0 };
  private readonly candidateRevisions: Record<string, number> = {};
  private readonly transitions = new Map<string, number>();
  private readonly affectedSubjects = new Map<string, Affected>();
  private readonly affectedApps = new Map<string, Affected>();
  private sawShadow = false;

  constructor(private readonly options: ReviewOptions = {}) {}

  /** Counts one event, if it falls in the window. */
  add(event: DecisionLogEvent): void {
    const at = Date.parse(event.timestamp);
    if ((this.options.since !== undefined && at < this.options.since) || (this.options.until !== undefined && at > this.options.until)) return;
    this.first = this.first === undefined ? at : Math.min(this.first, at);
    this.last = this.last === undefined ? at : Math.max(this.last, at);
    const result = (event.result ?? {}) as { outcome?: unknown; tier?: unknown; reasons?: unknown; risk?: { contributions?: unknown } };
    const input = (event.input ?? {}) as { subject?: { id?: unknown }; target?: { app?: unknown } };
    const outcome: Outcome = event.result === undefined ? "deny" : asOutcome(result.outcome);
    const tier = typeof result.tier === "string" ? result.tier : "critical";
    const app = typeof input.target?.app === "string" ? input.target.app : "(unknown)";
    const subject = typeof input.subject?.id === "string" ? input.subject.id : "(unknown)";

    this.decisions++;
    this.outcomes[outcome]++;
    if (event.result === undefined) this.failedClosed++;
    const revision = eventRevision(event) ?? "";
    this.revisions[revision] = (this.revisions[revision] ?? 0) + 1;
    // By the hour while counting (bounded by the window's hours); by day or week at the end.
    const bucket = bucketStart(at, "hour");
    const times = this.times.get(bucket) ?? { allow: 0, step_up: 0, deny: 0 };
    times[outcome]++;
    this.times.set(bucket, times);
    count(this.tiers, tier, outcome);
    count(this.apps, app, outcome);
    const contributions = result.risk?.contributions;
    if (contributions && typeof contributions === "object") for (const signal of Object.keys(contributions)) count(this.signals, signal, outcome);
    if (outcome === "step_up" && Array.isArray(result.reasons)) {
      for (const reason of new Set(result.reasons.map(String))) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    }
    this.subjects.add(subject);
    this.uses.push(...reviewRecords(event));
    this.compare(event, outcome, subject, app);
  }

  private compare(event: DecisionLogEvent, from: Outcome, subject: string, app: string): void {
    let to: Outcome | undefined;
    let revision: string | undefined;
    let failure = false;
    const { candidate } = this.options;
    if (candidate) {
      revision = candidate.revision;
      const finding = whatIfEvent(event, replayableInput(event), candidate.engine, candidate.reads);
      if (finding.kind === "evaluated") {
        to = asOutcome(finding.to);
        failure = finding.reasons.after.includes("engine.failure") && finding.reasons.after.length === 1 && to === "deny";
      }
    } else {
      const shadow = event.custom?.shadow;
      if (!shadow) return;
      this.sawShadow = true;
      revision = shadow.revision;
      if (!shadow.skipped) {
        to = shadow.outcome ?? "deny";
        failure = shadow.error !== undefined;
      }
    }
    if (to === undefined) {
      this.notCompared++;
      return;
    }
    this.compared++;
    if (failure) this.candidateFailures++;
    this.candidateOutcomes[to]++;
    if (revision !== undefined) this.candidateRevisions[revision] = (this.candidateRevisions[revision] ?? 0) + 1;
    const key = `${from}→${to}`;
    this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
    affect(this.affectedSubjects, subject, from, to);
    affect(this.affectedApps, app, from, to);
  }

  report(): ReviewReport {
    const kind: ReviewKind = this.options.candidate ? "what_if" : this.sawShadow ? "shadow" : "window";
    const top = this.options.top ?? 20;
    const rate = (n: number, of: number) => (of === 0 ? 0 : n / of);
    const uses = [...this.uses].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    const exceptions = exceptionUses(uses, this.last);
    let summary: ReviewSummary = {
      decisions: this.decisions,
      allow: this.outcomes.allow,
      step_up: this.outcomes.step_up,
      deny: this.outcomes.deny,
      failed_closed: this.failedClosed,
      prompt_rate: rate(this.outcomes.step_up, this.decisions),
      deny_rate: rate(this.outcomes.deny, this.decisions),
      subjects: this.subjects.size,
      apps: this.apps.size,
      exception_uses: uses.length,
      exceptions: exceptions.length,
    };
    let comparison: ReviewComparison | undefined;
    if (kind !== "window") {
      const changed = [...this.transitions].filter(([t]) => t.split("→")[0] !== t.split("→")[1]).reduce((n, [, c]) => n + c, 0);
      const direction = sumAffected(this.affectedApps);
      summary = {
        ...summary,
        compared: this.compared,
        changed,
        stricter: direction.stricter,
        more_lenient: direction.more_lenient,
        agreement_rate: rate(this.compared - changed, this.compared),
        candidate_prompt_rate: rate(this.candidateOutcomes.step_up, this.compared),
        candidate_deny_rate: rate(this.candidateOutcomes.deny, this.compared),
        candidate_failures: this.candidateFailures,
        not_compared: this.notCompared,
      };
      comparison = {
        candidate_revisions: this.candidateRevisions,
        transitions: OUTCOMES.flatMap((from) =>
          OUTCOMES.map((to) => ({ from, to, decisions: this.transitions.get(`${from}→${to}`) ?? 0 })).filter((t) => t.decisions > 0),
        ),
        subjects: mostAffected(this.affectedSubjects, top),
        apps: mostAffected(this.affectedApps, top),
      };
    }
    const bucket = bucketSize(this.first, this.last);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      kind,
      window: { since: iso(this.options.since), until: iso(this.options.until), first: iso(this.first), last: iso(this.last) },
      revisions: this.revisions,
      summary,
      bucket,
      outcomes_over_time: overTime(this.times, bucket),
      by_tier: ["low", "standard", "high", "critical"].filter((t) => this.tiers.has(t)).map((t) => rateRow(t, this.tiers.get(t)!)),
      by_app: topRates(this.apps, top),
      by_signal: topRates(this.signals, top),
      prompt_reasons: [...this.reasons]
        .map(([reason, decisions]) => ({ reason, decisions, share: rate(decisions, this.outcomes.step_up) }))
        .sort((a, b) => b.decisions - a.decisions || a.reason.localeCompare(b.reason)),
      exceptions,
      exception_uses: uses,
      ...(comparison && { comparison }),
    };
  }
}

/** Reviews events: the window's tally, and the comparison when there is one. */
export async function review(events: AsyncIterable<DecisionLogEvent> | Iterable<DecisionLogEvent>, options: ReviewOptions = {}): Promise<ReviewReport> {
  const tally = new ReviewTally(options);
  for await (const event of events) tally.add(event);
  return tally.report();
}

function asOutcome(value: unknown): Outcome {
  return value === "allow" || value === "step_up" ? value : "deny";
}

function count(into: Map<string, Counts>, key: string, outcome: Outcome): void {
  const c = into.get(key) ?? { decisions: 0, step_up: 0, deny: 0 };
  c.decisions++;
  if (outcome === "step_up") c.step_up++;
  if (outcome === "deny") c.deny++;
  into.set(key, c);
}

function rateRow(key: string, c: Counts): RateRow {
  return { key, decisions: c.decisions, step_up: c.step_up, deny: c.deny, prompt_rate: c.step_up / c.decisions, deny_rate: c.deny / c.decisions };
}

function topRates(rows: Map<string, Counts>, top: number): RateRow[] {
  return [...rows]
    .sort(([a, x], [b, y]) => y.decisions - x.decisions || a.localeCompare(b))
    .slice(0, top)
    .map(([key, c]) => rateRow(key, c));
}

function affect(into: Map<string, Affected>, key: string, from: Outcome, to: Outcome): void {
  const a = into.get(key) ?? { decisions: 0, changed: 0, stricter: 0, more_lenient: 0 };
  a.decisions++;
  if (from !== to) {
    a.changed++;
    if (RANK[to] > RANK[from]) a.stricter++;
    else a.more_lenient++;
  }
  into.set(key, a);
}

function sumAffected(rows: Map<string, Affected>): { stricter: number; more_lenient: number } {
  let stricter = 0;
  let more_lenient = 0;
  for (const a of rows.values()) {
    stricter += a.stricter;
    more_lenient += a.more_lenient;
  }
  return { stricter, more_lenient };
}

function mostAffected(rows: Map<string, Affected>, top: number): AffectedRow[] {
  return [...rows]
    .filter(([, a]) => a.changed > 0)
    .sort(([a, x], [b, y]) => y.changed - x.changed || y.decisions - x.decisions || a.localeCompare(b))
    .slice(0, top)
    .map(([key, a]) => ({ key, ...a }));
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function bucketSize(first: number | undefined, last: number | undefined): ReviewReport["bucket"] {
  const span = first === undefined || last === undefined ? 0 : last - first;
  return span <= 2 * DAY ? "hour" : span <= 120 * DAY ? "day" : "week";
}

/** The start of an instant's bucket, in UTC; weeks start on Monday. */
export function bucketStart(ms: number, bucket: ReviewReport["bucket"]): number {
  if (bucket === "hour") return Math.floor(ms / HOUR) * HOUR;
  const day = Math.floor(ms / DAY) * DAY;
  if (bucket === "day") return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  return day - weekday * DAY;
}

function overTime(times: Map<number, Record<Outcome, number>>, bucket: ReviewReport["bucket"]): ReviewReport["outcomes_over_time"] {
  const buckets = new Map<number, Record<Outcome, number>>();
  for (const [at, counts] of times) {
    const start = bucketStart(at, bucket);
    const into = buckets.get(start) ?? { allow: 0, step_up: 0, deny: 0 };
    for (const o of OUTCOMES) into[o] += counts[o];
    buckets.set(start, into);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .flatMap(([start, counts]) =>
      OUTCOMES.filter((o) => counts[o] > 0).map((outcome) => ({ bucket: new Date(start).toISOString(), outcome, decisions: counts[outcome] })),
    );
}

function exceptionUses(uses: readonly ReviewRecord[], end: number | undefined): ExceptionUse[] {
  const byId = new Map<string, { record: ReviewRecord; uses: number; first: string; last: string; subjects: Map<string, number> }>();
  for (const use of uses) {
    const entry = byId.get(use.exception.id) ?? { record: use, uses: 0, first: use.timestamp, last: use.timestamp, subjects: new Map<string, number>() };
    entry.uses++;
    entry.last = use.timestamp;
    const subject = use.subject ?? "(unknown)";
    entry.subjects.set(subject, (entry.subjects.get(subject) ?? 0) + 1);
    byId.set(use.exception.id, entry);
  }
  const endSeconds = (end ?? 0) / 1000;
  return [...byId.values()]
    .map(({ record, uses: n, first, last, subjects }) => ({
      id: record.exception.id,
      kind: record.exception.kind,
      approver: record.exception.approver,
      expires_at: record.exception.expires_at,
      uses: n,
      first_use: first,
      last_use: last,
      subjects: [...subjects].map(([subject, u]) => ({ subject, uses: u })).sort((a, b) => b.uses - a.uses || a.subject.localeCompare(b.subject)),
      expired: record.exception.expires_at <= endSeconds,
      expires_soon: record.exception.expires_at > endSeconds && record.exception.expires_at <= endSeconds + 7 * 86_400,
    }))
    .sort((a, b) => b.uses - a.uses || a.id.localeCompare(b.id));
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const num = (x: number) => x.toLocaleString("en-US");

/** One piece of a summary line: text, or a number from the summary named by its key. */
export type SummaryPart = string | { readonly key: keyof ReviewSummary; readonly text: string };

/**
 * The summary as lines of parts: the same words in the text review, in the HTML page (each number
 * tagged with its key in the JSON summary) and, as numbers, in `--json`.
 */
export function summaryLines(report: ReviewReport): SummaryPart[][] {
  const s = report.summary;
  const n = (key: keyof ReviewSummary) => ({ key, text: num(s[key] as number) });
  const p = (key: keyof ReviewSummary) => ({ key, text: pct(s[key] as number) });
  const { first, last } = report.window;
  const span = first && last ? ` from ${first} to ${last}` : "";
  const revisions = Object.entries(report.revisions).map(([r, c]) => `${r || "(none)"} ×${num(c)}`).join(", ");
  const lines: SummaryPart[][] = [
    [n("decisions"), ` decisions${span}`, revisions ? ` (revisions ${revisions})` : ""],
    ["allow ", n("allow"), ", step up ", n("step_up"), ", deny ", n("deny"), " (failed closed ", n("failed_closed"), ")"],
    ["prompt rate ", p("prompt_rate"), ", deny rate ", p("deny_rate")],
    [n("subjects"), " subjects, ", n("apps"), " apps; ", n("exception_uses"), " exception uses of ", n("exceptions"), " exceptions"],
  ];
  if (report.kind !== "window") {
    const candidates = Object.keys(report.comparison?.candidate_revisions ?? {}).join(", ") || "(none)";
    const how = report.kind === "what_if" ? "what-if on the logged inputs" : "report-only (shadow) outcomes logged live";
    lines.push(
      [`candidate ${candidates}, ${how}: `, n("compared"), " compared, ", n("changed"), " changed (", n("stricter"), " stricter, ", n("more_lenient"), " more lenient); agreement ", p("agreement_rate")],
      ["candidate's prompt rate ", p("candidate_prompt_rate"), ", deny rate ", p("candidate_deny_rate"), "; its failures to decide ", n("candidate_failures"), "; not compared ", n("not_compared")],
    );
  }
  return lines;
}

/** The summary lines as plain text. */
export function summaryText(report: ReviewReport): string {
  return summaryLines(report)
    .map((parts) => parts.map((p) => (typeof p === "string" ? p : p.text)).join(""))
    .join("\n");
}
