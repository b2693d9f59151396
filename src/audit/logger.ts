/**
 * The decision logger: turns every decision the SDK makes (its `onDecision` events) into an
 * OPA-format decision-log event, drops what the drop rule says to drop, masks what the mask says
 * to hide, and hands one line of JSON to each sink. It never throws into a decision: a failure
 * here costs a log line (counted), never a decision.
 */
import { randomUUID } from "node:crypto";
import { DropRuleSchema, type DecisionLogEvent, type DropRule, type MaskRule } from "../contracts/decision-log.js";
import { toIssues } from "../contracts/issues.js";
import type { DecisionEvent } from "../decision/conclude.js";
import { AuditConfigInvalidError } from "../errors.js";
import { stepupVersion, toLogEvent } from "./event.js";
import { compileMask, type Masker } from "./mask.js";
import type { StepupMetrics } from "./metrics.js";
import { logReview, reviewRecords, usesException, type ReviewRecord } from "./review.js";
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
}

export class DecisionLogger {
  private readonly sinks: readonly Sink[];
  private readonly mask: Masker;
  private readonly dropRule: ((event: DecisionLogEvent) => boolean) | undefined;
  private readonly labels: Record<string, string>;
  private readonly bundleName: string;
  private readonly metrics: StepupMetrics | undefined;
  private readonly onReview: (record: ReviewRecord) => void;
  private requestId = 0;
  private errorReported = false;

  constructor(options: DecisionLoggerOptions) {
    this.sinks = options.sinks;
    this.mask = compileMask(options.mask ?? [], options.hashKey);
    this.dropRule = compileDrop(options.drop);
    this.labels = { ...options.labels, id: randomUUID(), version: stepupVersion() };
    this.bundleName = options.bundleName ?? "stepup";
    this.metrics = options.metrics;
    this.onReview = options.onReview ?? logReview;
    for (const sink of this.sinks) sink.onDrop((reason, count) => this.metrics?.logDropped(sink.name, reason, count));
  }

  /** The SDK hook: `Stepup.load(path, { onDecision: logger.onDecision })`. */
  readonly onDecision = (event: DecisionEvent): void => {
    this.log(event);
  };

  /** Logs one decision. Never throws. */
  log(event: DecisionEvent): void {
    try {
      const ctx = { labels: this.labels, bundleName: this.bundleName, nextRequestId: () => ++this.requestId };
      const logEvent = toLogEvent(event, ctx);
      if (this.dropRule && !usesException(logEvent.result) && logEvent.result !== undefined && this.dropRule(logEvent)) {
        this.dropped("all", "drop_rule");
        return;
      }
      this.mask(logEvent);
      for (const record of reviewRecords(logEvent)) this.onReview(record);
      const line = serialize(logEvent);
      for (const sink of this.sinks) sink.write(line);
    } catch (err) {
      this.dropped("all", "write_failed");
      if (!this.errorReported) {
        this.errorReported = true;
        process.stderr.write(`${JSON.stringify({ level: "error", msg: "decision log event lost", error: String(err) })}\n`);
      }
    }
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }

  /** Flushes every sink and closes it; call it on shutdown so buffered events are not lost. */
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  private dropped(sink: string, reason: DropReason): void {
    this.metrics?.logDropped(sink, reason);
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
