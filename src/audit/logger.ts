/**
 * The decision logger: turns every decision the SDK makes (its `onDecision` events) into an
 * OPA-format decision-log event, drops what the drop rule says to drop, masks what the mask says
 * to hide, and hands one line of JSON to each sink. It never throws into a decision: a failure
 * here costs a log line (counted), never a decision. Events a sink drops are counted in the
 * metrics and reported in a log line of their own, as OPA reports the decisions it drops.
 */
import { randomUUID } from "node:crypto";
import { DropRuleSchema, type DecisionLogEvent, type DropRule, type MaskRule, type RolloutRecord } from "../contracts/decision-log.js";
import { toIssues } from "../contracts/issues.js";
import type { DecisionEvent } from "../decision/conclude.js";
import { AuditConfigInvalidError, DecisionLogFullError } from "../errors.js";
import { stepupVersion, toLogEvent, type EventContext } from "./event.js";
import { EventWriter, FALLBACK, FULL } from "./event-writer.js";
import { compileMask, type Masker } from "./mask.js";
import type { StepupMetrics } from "./metrics.js";
import { checkedReviewRecords, logReview, usesException, type ReviewRecord } from "./review.js";
import type { DropReason, Sink } from "./sink.js";

export interface DecisionLoggerOptions {
  readonly sinks: readonly Sink[];
  /** Mask rules, as OPA's `system.log.mask` writes them (plus `hash` and `truncate_ip`). */
  readonly mask?: readonly MaskRule[];
  /** The key of `hash` rules (HMAC-SHA256); without it they use a bare SHA-256. */
  readonly hashKey?: string | Uint8Array;
  /** Which events to drop, like OPA's `system.log.drop`; exception uses are never dropped. */
  readonly drop?: DropRule | ((event: DecisionLogEvent) => boolean);
  /** Labels added to every event (`id` and `version` are set by stepup, as OPA sets its own). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The name the bundle is logged under in `bundles` (default "stepup"). */
  readonly bundleName?: string;
  /** Counts dropped events. */
  readonly metrics?: StepupMetrics;
  /** Called for every use of an exception; by default a JSON line on stderr. */
  readonly onReview?: (record: ReviewRecord) => void;
  /**
   * What a full sink means for deciding. `drop` (the default): events that do not fit are
   * dropped and counted, and deciding goes on. `fail_closed`: the same, and `accepting` turns
   * false while a sink is full, so that a caller who must not decide without a log can deny
   * instead (`logger.accepting ? stepup.decide(input) : stepup.failClosed(input, logger.fullError())`).
   */
  readonly overflow?: "drop" | "fail_closed";
  /**
   * Told of dropped events, as OPA logs the decisions it drops: at most once a second per sink
   * and reason, with the count since the last report and in all. By default a JSON line on stderr.
   */
  readonly onDropped?: (report: DropReport) => void;
}

/** A report of dropped decision-log events. */
export interface DropReport {
  readonly level: "error";
  readonly msg: "Dropped decision log events";
  readonly sink: string;
  readonly reason: DropReason;
  /** Dropped since the last report for this sink and reason. */
  readonly dropped: number;
  /** Dropped since the logger started, for this sink and reason. */
  readonly total: number;
}

export class DecisionLogger {
  private readonly sinks: readonly Sink[];
  private readonly mask: Masker;
  private readonly dropRule: ((event: DecisionLogEvent) => boolean) | undefined;
  private readonly labels: Readonly<Record<string, string>>;
  private readonly bundleName: string;
  private readonly metrics: StepupMetrics | undefined;
  private readonly onReview: (record: ReviewRecord) => void;
  private requestId = 0;
  private readonly context: EventContext;
  private errorReported = false;
  private readonly overflow: "drop" | "fail_closed";
  private readonly dropReports: DropReports;
  /** Writes events as bytes, for sinks that take them (`Sink.writeBytes`); absent when none does. */
  private readonly writer: EventWriter | undefined;
  /** The logger's only sink, when it takes lines written in its queue (`Sink.writeInPlace`). */
  private readonly inPlace: Required<Pick<Sink, "writeInPlace">> | undefined;

  constructor(options: DecisionLoggerOptions) {
    this.sinks = options.sinks;
    this.mask = compileMask(options.mask ?? [], options.hashKey);
    this.dropRule = compileDrop(options.drop);
    // One frozen object shared by every event: the event writer writes it as fixed bytes.
    this.labels = Object.freeze({ ...options.labels, id: randomUUID(), version: stepupVersion() });
    this.bundleName = options.bundleName ?? "stepup";
    this.context = { labels: this.labels, bundleName: this.bundleName, nextRequestId: () => ++this.requestId };
    this.metrics = options.metrics;
    this.onReview = options.onReview ?? logReview;
    this.overflow = options.overflow ?? "drop";
    this.dropReports = new DropReports(options.onDropped ?? ((report) => process.stderr.write(`${JSON.stringify(report)}\n`)));
    this.writer = this.sinks.some((sink) => sink.writeBytes) ? new EventWriter(this.labels, this.bundleName, this.mask) : undefined;
    const only = this.sinks.length === 1 ? this.sinks[0]! : undefined;
    this.inPlace = only?.writeInPlace && only.writeBytes ? (only as Required<Pick<Sink, "writeInPlace">>) : undefined;
    for (const sink of this.sinks) sink.onDrop((reason, count) => this.dropped(sink.name, reason, count));
  }

  /**
   * Whether every sink has room for the next event. Always true with `overflow: "drop"`; with
   * `fail_closed`, false while a sink's queue or spool is full (or it failed).
   */
  get accepting(): boolean {
    return this.overflow === "drop" || this.sinks.every((sink) => sink.accepting !== false);
  }

  /** The error to fail closed with while the log is not accepting (`ERR_DECISION_LOG_FULL`). */
  fullError(): DecisionLogFullError {
    const full = this.sinks.filter((sink) => sink.accepting === false).map((sink) => sink.name);
    return new DecisionLogFullError(full);
  }

  /** The SDK hook: `Stepup.load(path, { onDecision: logger.onDecision })`. */
  readonly onDecision = (event: DecisionEvent): void => {
    this.log(event);
  };

  /**
   * The SDK hook for switches of revisions in a report-only rollout:
   * `Stepup.load(path, { onDecision: logger.onDecision, onRollout: logger.onRollout })`. Each
   * record (a promotion, a rollback, a candidate set or cleared) goes into the file and console
   * sinks as a notice line between the events, with this logger's labels, and is counted in the
   * metrics. Never throws.
   */
  readonly onRollout = (record: RolloutRecord): void => {
    try {
      const line = JSON.stringify({ ...record, labels: { ...this.labels, ...record.labels } });
      for (const sink of this.sinks) sink.notice?.(line);
      this.metrics?.rollout(record);
    } catch (err) {
      process.stderr.write(`${JSON.stringify({ level: "error", msg: "rollout record lost", error: String(err), record })}\n`);
    }
  };

  /** Logs one decision. Never throws. */
  log(event: DecisionEvent): void {
    try {
      const logEvent = toLogEvent(event, this.context);
      if (this.dropRule && !usesException(logEvent.result) && logEvent.result !== undefined && this.dropRule(logEvent)) {
        this.dropped("all", "drop_rule");
        return;
      }
      if (usesException(logEvent.result)) this.review(logEvent);
      this.send(logEvent);
    } catch (err) {
      // Reported once below, with the error, rather than in the drop reports.
      this.dropped("all", "write_failed", 1, false);
      if (!this.errorReported) {
        this.errorReported = true;
        process.stderr.write(`${JSON.stringify({ level: "error", msg: "decision log event lost", error: String(err) })}\n`);
      }
    }
  }

  /** The review records of an event that used an exception, from a masked copy (the subject as logged). */
  private review(event: DecisionLogEvent): void {
    const logged = { ...event };
    this.mask(logged);
    // The result is the verdict the SDK checked, with the exception trail no mask may touch.
    for (const record of checkedReviewRecords(logged)) this.onReview(record);
  }

  /**
   * One line to each sink, of the event as the mask leaves it: written once as UTF-8 bytes by the
   * compiled event writer when a sink takes bytes — straight into the queue of a sink that is the
   * logger's only one, else into the writer's buffer, copied by each sink (a string made only for
   * the sinks that do not take bytes) — or by `JSON.stringify`: the same bytes either way. Events
   * the writer does not suit fall back to `JSON.stringify`.
   */
  private send(event: DecisionLogEvent): void {
    const writer = this.writer;
    if (!writer) {
      this.mask(event);
      return this.sendLine(serialize(event));
    }
    // The writer masks as it writes, and masks the event itself when it gives it back.
    writer.begin(event);
    let n = this.inPlace ? this.inPlace.writeInPlace(writer.writeAt, event) : FULL;
    if (n >= 0) return;
    if (n === FULL) n = writer.writeOwn(event);
    if (n === FALLBACK) return this.sendLine(serialize(event));
    const bytes = writer.bytes;
    let line: string | undefined;
    for (const sink of this.sinks) {
      if (sink.writeBytes) sink.writeBytes(bytes, n);
      else sink.write((line ??= bytes.toString("utf8", 0, n)));
    }
  }

  private sendLine(line: string): void {
    for (const sink of this.sinks) sink.write(line);
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }

  /**
   * Closes every sink: each delivers what it can within its close timeout; what it could not
   * stays in its spool for the next start. Call it on shutdown.
   */
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
    this.dropReports.flush();
  }

  private dropped(sink: string, reason: DropReason, count = 1, report = true): void {
    this.metrics?.logDropped(sink, reason, count);
    // The drop rule's drops are asked for; every other drop is reported.
    if (report && reason !== "drop_rule") this.dropReports.add(sink, reason, count);
  }
}

/** Drop reports, at most one a second per sink and reason, with the counts since the last. */
class DropReports {
  private readonly totals = new Map<string, { sink: string; reason: DropReason; total: number; unreported: number; at: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly report: (report: DropReport) => void) {}

  add(sink: string, reason: DropReason, count: number): void {
    const key = `${sink}\u0000${reason}`;
    let entry = this.totals.get(key);
    if (!entry) this.totals.set(key, (entry = { sink, reason, total: 0, unreported: 0, at: 0 }));
    entry.total += count;
    entry.unreported += count;
    if (Date.now() - entry.at >= 1_000) this.send(entry);
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        for (const e of this.totals.values()) if (e.unreported > 0) this.send(e);
      }, 1_000);
      this.timer.unref();
    }
  }

  /** Reports what was not reported yet. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const e of this.totals.values()) if (e.unreported > 0) this.send(e);
  }

  private send(entry: { sink: string; reason: DropReason; total: number; unreported: number; at: number }): void {
    entry.at = Date.now();
    const dropped = entry.unreported;
    entry.unreported = 0;
    try {
      this.report({ level: "error", msg: "Dropped decision log events", sink: entry.sink, reason: entry.reason, dropped, total: entry.total });
    } catch {
      // a report that fails must not fail the decision that dropped
    }
  }
}

/** One line of JSON; events from `toLogEvent` already have OPA's field order. */
export function serialize(event: DecisionLogEvent): string {
  return JSON.stringify(event);
}

function compileDrop(rule: DecisionLoggerOptions["drop"]): ((event: DecisionLogEvent) => boolean) | undefined {
  if (rule === undefined || typeof rule === "function") return rule;
  const parsed = DropRuleSchema.safeParse(rule);
  if (!parsed.success) throw new AuditConfigInvalidError(toIssues(parsed.error, "drop"));
  const { outcome, tier, app } = parsed.data;
  return (event) => {
    const result = event.result as { outcome?: string; tier?: string } | undefined;
    const target = (event.input as { target?: { app?: string } } | undefined)?.target;
    return (
      (!outcome || outcome.includes(result?.outcome as never)) &&
      (!tier || tier.includes(result?.tier as never)) &&
      (!app || app.includes(target?.app as string))
    );
  };
}
