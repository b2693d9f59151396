/**
 * Done when: the metrics endpoint is scraped in a test and its values match the decisions made.
 * The SDK decides (scenarios, a generated corpus, and decisions that fail closed), the metrics
 * server is scraped over HTTP on 127.0.0.1, and every series is compared with counts computed
 * from the decisions the SDK returned.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parse from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { StepupMetrics, type MetricsServer } from "../../src/audit/metrics.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import { bundleFromFiles, loadBundle } from "../../src/bundle/load.js";
import type { Decision } from "../../src/contracts/decision.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import type { Engine } from "../../src/engine/engine.js";
import { EngineEvaluationError, isStepupError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { freePort } from "../support/collector.js";

type Family = ReturnType<typeof parse>[number];

describe("metrics", () => {
  let metrics: StepupMetrics;
  let server: MetricsServer;
  const decisions: Decision[] = [];
  /** Each decision's duration in seconds, as the listener was given it. */
  const durations: number[] = [];
  let stepup: Stepup;
  let activationFailures = 0;
  let spoolDir: string | undefined;
  let spooled = 0;

  beforeAll(async () => {
    metrics = new StepupMetrics();
    server = await metrics.serve();
    const observe = (event: DecisionEvent) => {
      durations.push(event.durationNs / 1e9);
      metrics.observe(event);
    };
    stepup = await Stepup.load(inject("bundlePath"), { onDecision: observe, onError: () => {} });
    metrics.bundleActivated(stepup.revision);
    const inputs = [...(await scenarios()).map((s) => s.input), ...sampleInputs(3, 300)];
    for (const input of inputs) decisions.push(stepup.decideInput(input));

    // Decisions that fail closed: a stand-in engine that fails as a broken policy would.
    const failing: Engine = {
      revision: stepup.revision,
      evaluate: () => {
        throw new EngineEvaluationError("policy evaluation failed: out of memory");
      },
    };
    const broken = new Stepup(stepup.bundle, failing, { onDecision: observe, onError: () => {} });
    for (const input of inputs.slice(0, 7)) decisions.push(broken.decideInput(input));

    // A bundle whose wasm is corrupt cannot be activated; the active one stays.
    const bundle = await loadBundle(inject("bundlePath"));
    const files = new Map(bundle.files);
    files.set("policy.wasm", new Uint8Array([0, 97, 115, 109, 9, 9]));
    try {
      await stepup.activate(bundleFromFiles(files, "corrupt"));
    } catch (err) {
      if (!isStepupError(err)) throw err;
      metrics.bundleActivationFailed(err.code);
      activationFailures++;
    }

    // Decision-log drops: a drop rule, and an HTTP sink whose spool reaches its cap (no collector).
    const port = await freePort();
    spoolDir = await mkdtemp(join(tmpdir(), "stepup-metrics-spool-"));
    const sink = new HttpSink({ url: `http://127.0.0.1:${port}`, spoolDir, maxSpoolBytes: 8 * 1024, closeTimeoutMs: 0 });
    const logger = new DecisionLogger({ sinks: [sink], drop: { outcome: ["allow"] }, metrics, onDropped: () => {} });
    const logged = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision });
    for (const input of inputs.slice(0, 40)) logged.decideInput(input);
    await logger.close();
    spooled = sink.stats.appended;
  });

  afterAll(async () => {
    await server?.close();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<Map<string, Family>> {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Map(parse(await res.text()).map((f) => [f.name, f]));
  }

  const series = (family: Family | undefined) =>
    Object.fromEntries((family?.metrics ?? []).map((m) => [JSON.stringify(m.labels ?? {}), Number(m.value)]));
  const count = (key: (d: Decision) => string[]) => {
    const out: Record<string, number> = {};
    for (const d of decisions) for (const k of key(d)) out[k] = (out[k] ?? 0) + 1;
    return out;
  };

  it("counts decisions by outcome and tier", async () => {
    const families = await scrape();
    expect(series(families.get("stepup_decisions_total"))).toEqual(
      count((d) => [JSON.stringify({ outcome: d.outcome, tier: d.target.tier })]),
    );
  });

  it("counts reasons by outcome", async () => {
    const families = await scrape();
    expect(series(families.get("stepup_decision_reasons_total"))).toEqual(
      count((d) => d.reasons.map((r) => JSON.stringify({ outcome: d.outcome, reason: r.code }))),
    );
  });

  it("counts the decisions that failed closed, by error code", async () => {
    const families = await scrape();
    expect(series(families.get("stepup_decision_failures_total"))).toEqual({ [JSON.stringify({ code: "ERR_ENGINE_EVALUATION" })]: 7 });
  });

  it("has one latency observation per decision", async () => {
    const [sample] = (await scrape()).get("stepup_decision_duration_seconds")?.metrics ?? [];
    expect(Number(sample?.count)).toBe(decisions.length);
    expect(Number(sample?.sum)).toBeGreaterThan(0);
    expect(Number(sample?.buckets?.["+Inf"])).toBe(decisions.length);
    expect(Number(sample?.sum)).toBeCloseTo(durations.reduce((a, b) => a + b, 0), 9);
    // Every bucket holds the decisions at most as long as its bound, as prom-client's histograms count.
    const buckets = Object.entries(sample?.buckets ?? {}).filter(([le]) => le !== "+Inf");
    expect(buckets.map(([le]) => Number(le))).toEqual([1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1]);
    for (const [le, value] of buckets) expect(Number(value), `le ${le}`).toBe(durations.filter((d) => d <= Number(le)).length);
  });

  it("names the active bundle revision and counts failed activations", async () => {
    const families = await scrape();
    expect(series(families.get("stepup_bundle_active_info"))).toEqual({ [JSON.stringify({ revision: "test-revision" })]: 1 });
    expect(activationFailures).toBe(1);
    expect(series(families.get("stepup_bundle_activation_failures_total"))).toEqual({
      [JSON.stringify({ code: "ERR_BUNDLE_INVALID" })]: 1,
    });
  });

  it("counts decision-log drops by sink and reason", async () => {
    const families = await scrape();
    // The drop rule drops allows, but never a decision that used an exception.
    const allowed = decisions.slice(0, 40).filter((d) => d.outcome === "allow" && d.exceptions.length === 0).length;
    const kept = 40 - allowed;
    expect(series(families.get("stepup_decision_log_dropped_total"))).toEqual({
      [JSON.stringify({ sink: "all", reason: "drop_rule" })]: allowed,
      [JSON.stringify({ sink: "http", reason: "spool_full" })]: kept - spooled,
    });
    expect(spooled).toBeGreaterThan(0);
    expect(spooled).toBeLessThan(kept);
  });

  it("counts on between scrapes, as often as it is read", async () => {
    const families = await scrape();
    const before = series(families.get("stepup_decisions_total"));
    const input = (await scenarios())[0]!.input;
    const made = [stepup.decideInput(input), stepup.decideInput(input)];
    await metrics.registry.getMetricsAsJSON();
    const after = series((await scrape()).get("stepup_decisions_total"));
    const key = JSON.stringify({ outcome: made[0]!.outcome, tier: made[0]!.target.tier });
    expect(after).toEqual({ ...before, [key]: (before[key] ?? 0) + 2 });
    decisions.push(...made);
  });

  it("answers 404 off /metrics", async () => {
    expect((await fetch(server.url.replace("/metrics", "/other"))).status).toBe(404);
  });
});
