/**
 * OpenTelemetry spans around what stepup does on a request's path — deciding, collecting a
 * request's signals, activating a bundle — through `@opentelemetry/api` alone. With no SDK
 * registered the API hands out non-recording spans, and nothing is recorded or exported; with one
 * (the application's NodeSDK), the spans join the caller's trace, a request's server span say, and
 * each decision-log event names its trace and span (`trace_id`, `span_id`, as OPA's events do).
 */
import type { Attributes, Span, SpanContext, Tracer } from "@opentelemetry/api";
import { otelApi } from "./lazy.js";

/** The spans stepup makes. */
export const SPAN = {
  decide: "stepup.decide",
  collect: "stepup.collect_signals",
  activate: "stepup.bundle.activate",
} as const;

/** W3C trace-context ids of a span, as lower-case hex (OPA's `trace_id` and `span_id`). */
export interface TraceIds {
  readonly trace_id: string;
  readonly span_id: string;
}

/** The span given to work while no SDK is registered: records nothing, belongs to no trace. */
const NO_CONTEXT: SpanContext = { traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 };
const NO_SPAN: Span = {
  spanContext: () => NO_CONTEXT,
  setAttribute: () => NO_SPAN,
  setAttributes: () => NO_SPAN,
  addEvent: () => NO_SPAN,
  addLink: () => NO_SPAN,
  addLinks: () => NO_SPAN,
  setStatus: () => NO_SPAN,
  updateName: () => NO_SPAN,
  end: () => {},
  isRecording: () => false,
  recordException: () => {},
};

/**
 * Where the API (major version 1, every copy of it in the process) keeps what an application
 * registers: `trace` is there once a tracer provider is. Looking there first spares a service that
 * registers none the API's module (tens of milliseconds of a cold start) and, on every decision,
 * a span and a context switch.
 */
const API_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/**
 * stepup's tracer from the registered SDK; undefined while none is registered. Asked on every
 * call: an SDK may be registered, or the API reset, at any time.
 */
function registered(): Tracer | undefined {
  if ((globalThis as { [API_GLOBAL]?: { trace?: unknown } })[API_GLOBAL]?.trace === undefined) return undefined;
  const provider = otelApi().trace.getTracerProvider();
  // The provider registered is the API's proxy, of whichever copy of the API registered it.
  return "getDelegateTracer" in provider && typeof provider.getDelegateTracer === "function"
    ? (provider.getDelegateTracer as (name: string) => Tracer | undefined)("stepup")
    : provider.getTracer("stepup");
}

/** Runs synchronous work in a span made active for it; a throw is recorded on the span. */
export function inSpan<T>(name: string, attributes: Attributes | undefined, work: (span: Span) => T): T {
  const tracer = registered();
  if (!tracer) return work(NO_SPAN);
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      return work(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Runs asynchronous work in a span made active for it; a rejection is recorded on the span. */
export function inSpanAsync<T>(name: string, attributes: Attributes | undefined, work: (span: Span) => Promise<T>): Promise<T> {
  const tracer = registered();
  if (!tracer) return work(NO_SPAN);
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The span's ids, when it belongs to a real trace (never with the API's no-op spans). */
export function traceIdsOf(span: Span): TraceIds | undefined {
  if (span === NO_SPAN) return undefined;
  const context = span.spanContext();
  return otelApi().isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : undefined;
}

/** Marks a span failed with an error's code (stepup's errors) and message. */
export function failed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const code = (err as { code?: unknown } | null)?.code;
  span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: typeof code === "string" ? code : String(err) });
  if (err instanceof Error) span.recordException(err);
}
