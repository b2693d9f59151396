/**
 * OpenTelemetry: with no SDK registered the spans are the API's no-op ones and the decision log
 * names no trace; with OpenTelemetry's own tracer provider registered (sdk-trace-base, its
 * in-memory exporter, the AsyncLocalStorage context manager), a guarded request's signal
 * collection and decision are spans of the caller's trace, the decision-log event carries that
 * trace's id and the decide span's id, and a bundle activation has its own span.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import type { DecisionLogEvent } from "../../src/contracts/decision-log.js";
import { bundleFromFiles } from "../../src/bundle/load.js";
import { withRevision } from "../support/bundles.js";
import { PARIS, makeWorld, type World } from "../support/world.js";

describe("OpenTelemetry spans and the trace id in the decision log", () => {
  let dir: string;
  let world: World;
  let logger: DecisionLogger;
  let log: string;
  const exporter = new InMemorySpanExporter();
  let manager: AsyncLocalStorageContextManager;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-tracing-"));
    log = join(dir, "decisions.ndjson");
    logger = new DecisionLogger({ sinks: [new FileSink({ path: log, spoolDir: join(dir, "spool") })], onReview: () => {} });
    world = await makeWorld({ stepup: { onDecision: logger.onDecision, onRollout: () => {} } });
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await logger?.close();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function events(): Promise<DecisionLogEvent[]> {
    await logger.flush();
    const all: DecisionLogEvent[] = [];
    for await (const event of readLogEvents([log])) all.push(event);
    return all;
  }

  const request = (token: string) => ({ peer: "127.0.0.1", headers: { authorization: `Bearer ${token}`, "x-forwarded-for": PARIS }, method: "GET", path: "/wiki/home", route: null });

  it("records nothing and names no trace while no SDK is registered", async () => {
    const token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now });
    const result = await world.guard.check(request(token));
    const [event] = await events();
    expect(event?.decision_id).toBe(result.decision?.decision_id);
    expect(event).not.toHaveProperty("trace_id");
    expect(event).not.toHaveProperty("span_id");
  });

  it("makes collection and decision spans of the caller's trace, and logs the trace id", async () => {
    manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now });
    // The caller's own span, as an HTTP server instrumentation would make for the request.
    const tracer = trace.getTracer("test-http-server");
    const { result, traceId } = await tracer.startActiveSpan("GET /wiki/home", async (span) => {
      const checked = await world.guard.check(request(token));
      span.end();
      return { result: checked, traceId: span.spanContext().traceId };
    });
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const server = byName.get("GET /wiki/home")!;
    const collect = byName.get("stepup.collect_signals")!;
    const decide = byName.get("stepup.decide")!;
    for (const span of [collect, decide]) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
    expect(decide.attributes).toMatchObject({
      "stepup.decision_id": result.decision!.decision_id,
      "stepup.outcome": result.decision!.outcome,
      "stepup.app": "wiki",
      "stepup.revision": "test-revision",
    });
    const event = (await events()).find((e) => e.decision_id === result.decision!.decision_id)!;
    expect(event.trace_id).toBe(traceId);
    expect(event.span_id).toBe(decide.spanContext().spanId);
    expect(event.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("has a span for each bundle activation, a failed one marked so", async () => {
    exporter.reset();
    await world.stepup.activate(world.stepup.bundle);
    const files = withRevision(world.stepup.bundle.files, "corrupt");
    files.set("policy.wasm", new Uint8Array([0, 97, 115, 109, 9, 9]));
    await expect(world.stepup.setCandidate(bundleFromFiles(files, "corrupt"))).rejects.toMatchObject({ code: "ERR_BUNDLE_INVALID" });
    const activations = exporter.getFinishedSpans().filter((s) => s.name === "stepup.bundle.activate");
    expect(activations.map((s) => [s.attributes["stepup.channel"], s.status.code])).toEqual([
      ["active", 0],
      ["candidate", 2],
    ]);
    expect(activations[1]!.status.message).toBe("ERR_BUNDLE_INVALID");
  });
});
