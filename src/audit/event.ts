/**
 * From a decision to its decision-log event, in OPA's EventV1 layout and field order: the input
 * the policy saw, the verdict it returned (`result`), the bundle revision it was made on, and the
 * time it took. A decision that failed closed carries `error` instead of `result`. In a report-only
 * rollout, the candidate's outcome goes in OPA's free-form `custom` object (`custom.shadow`); the
 * OpenTelemetry trace the decision was made in, in OPA's own `trace_id` and `span_id`.
 */
import { readFileSync } from "node:fs";
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import type { DecisionEvent } from "../decision/conclude.js";
import { DECISION_ENTRYPOINT } from "../bundle/build.js";
import { packageRoot } from "../paths.js";

export interface EventContext {
  /** `id` (this logger instance) and `version` (stepup's), plus the labels configured. */
  readonly labels: Readonly<Record<string, string>>;
  /** The name the bundle is logged under, as OPA names bundles by their configured name. */
  readonly bundleName: string;
  /** The request counter, as OPA's `req_id`. */
  nextRequestId(): number;
}

/**
 * The event for one decision, before masking. `input` and `result` are shared, not copied. Every
 * field is present in OPA's order (unset ones undefined, which JSON leaves out), so masking fills
 * `erased` and `masked` in place and one JSON.stringify writes the event in OPA's field order.
 */
export function toLogEvent(event: DecisionEvent, ctx: EventContext): DecisionLogEvent {
  const { decision, verdict, error } = event;
  return {
    // Shared, not copied: the logger's labels are frozen.
    labels: ctx.labels as Record<string, string>,
    decision_id: decision.decision_id,
    trace_id: event.trace?.trace_id,
    span_id: event.trace?.span_id,
    bundles: { [ctx.bundleName]: { revision: decision.policy.revision } },
    path: DECISION_ENTRYPOINT,
    input: event.input,
    result: verdict,
    erased: undefined,
    masked: undefined,
    error: error ? { code: error.code, message: error.message } : undefined,
    timestamp: now(),
    metrics: { timer_stepup_decide_ns: event.durationNs },
    req_id: ctx.nextRequestId(),
    custom: event.shadow ? { shadow: event.shadow } : undefined,
  };
}

let lastMs = -1;
let lastText = "";

/** The time as ISO text, written once per millisecond (decisions come many to a millisecond). */
function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastText = new Date(ms).toISOString();
  }
  return lastText;
}

let version: string | undefined;

/** stepup's own version, for the `version` label (OPA puts its version there). */
export function stepupVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(`${packageRoot()}package.json`, "utf8")) as { version: string }).version;
    } catch {
      version = "unknown";
    }
  }
  return version;
}
