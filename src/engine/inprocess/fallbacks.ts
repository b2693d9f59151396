/**
 * What the in-process engine reports when a fast path does not hold and it takes OPA's stock road
 * instead: the decision is the same, only slower. Each kind is reported once per engine (per
 * bundle activated), through `StepupOptions.onEngineEvent` and the metric
 * `stepup_engine_fallbacks_total` (StepupMetrics.engineEvent). The pool's threads probe the same
 * module with the same data as the engine that started them, and do not report again.
 */

/** Each fallback, with what it means. */
export const FALLBACKS = {
  "value-reader":
    "the value reader does not read this module's values as OPA's JSON writer writes them: results are read through OPA's JSON",
  "value-reader-value": "a result held a value the value reader does not know: that result was read through OPA's JSON",
  "value-writer": "the value writer does not write inputs as this module's parser builds them: inputs go as JSON for OPA to parse",
  "value-writer-input":
    "an input the compiled writer does not take (longer than it was compiled for, or a lone surrogate) went as JSON for OPA to parse",
  "packed-entrypoint": "the module has no packed entrypoint (stepup/packed): the decision entrypoint is evaluated and its object read",
} as const;

export type Fallback = keyof typeof FALLBACKS;

/** What the engine reports: a fallback taken, for the bundle revision named. */
export interface EngineEvent {
  readonly type: "fallback";
  readonly fallback: Fallback;
  /** What it means, in words (FALLBACKS). */
  readonly message: string;
  readonly revision: string;
}

/** The default listener: one line of JSON on stderr per event. */
export function logEngineEvent(event: EngineEvent): void {
  process.stderr.write(`${JSON.stringify({ level: "warn", msg: "stepup engine fallback", ...event })}\n`);
}
