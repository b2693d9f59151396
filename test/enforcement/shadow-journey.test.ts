/**
 * Done when (issue 29): an Express app with an active and a candidate revision serves 1,000
 * requests; every response is the active revision's; the decision log holds both outcomes for
 * each; the transition metrics match a direct evaluation of the candidate; promotion switches
 * enforcement without a failed request; a candidate that throws on every request changes nothing
 * enforced; and the same through Fastify. Real parts throughout: the apps over HTTP on loopback,
 * the world's identity provider and MDM keys, the file sink through its spool, prom-client's
 * exposition parsed back.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parse from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { StepupMetrics } from "../../src/audit/metrics.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { review } from "../../src/audit/review-report.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { loadBundle, type Bundle } from "../../src/bundle/load.js";
import { RolloutRecordSchema, type DecisionLogEvent } from "../../src/contracts/decision-log.js";
import { parseInput } from "../../src/input/validate.js";
import { Stepup } from "../../src/stepup.js";
import { abortingBundle, weightRaisedBundle } from "../support/bundles.js";
import { http, type HttpResponse } from "../support/http.js";
import { LYON, PARIS, TOKYO, makeWorld, type World } from "../support/world.js";
import { expressApp, fastifyApp, type RunningApp } from "./apps.js";

const STATUS = { allow: 200, step_up: 401, deny: 403 } as const;
const TOR = "203.0.113.66";

/** A deterministic stream of varied requests: paths, sessions, postures and addresses. */
function* requests(world: World, tokens: string[], postures: (string | undefined)[], seed: number) {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
  const routes = [
    { method: "GET", path: "/wiki/home" },
    { method: "GET", path: "/news" },
    { method: "GET", path: "/payroll/7" },
    { method: "POST", path: "/admin/users" },
  ];
  const places = [PARIS, PARIS, LYON, TOKYO, TOR, undefined];
  for (;;) {
    world.now += next(5);
    const route = routes[next(routes.length)]!;
    const headers: Record<string, string> = {};
    const token = tokens[next(tokens.length + 1)];
    if (token) headers.authorization = `Bearer ${token}`;
    const posture = postures[next(postures.length)];
    if (posture) headers["x-device-posture"] = posture;
    const place = places[next(places.length)];
    if (place) headers["x-forwarded-for"] = place;
    yield { ...route, headers };
  }
}

describe("report-only rollout through Express", () => {
  let dir: string;
  let world: World;
  let app: RunningApp;
  let logger: DecisionLogger;
  let metrics: StepupMetrics;
  let log: string;
  let active: Stepup;
  let candidate: Stepup;
  let candidateBundle: Bundle;
  let abortingPath: string;
  let stream: Generator<{ method: string; path: string; headers: Record<string, string> }>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-shadow-journey-"));
    log = join(dir, "decisions.ndjson");
    metrics = new StepupMetrics();
    logger = new DecisionLogger({ sinks: [new FileSink({ path: log, spoolDir: join(dir, "spool") })], metrics, onReview: () => {} });
    world = await makeWorld({
      stepup: {
        onDecision: (e) => {
          metrics.observe(e);
          logger.onDecision(e);
        },
        onRollout: logger.onRollout,
      },
    });
    const built = await weightRaisedBundle(dir, "candidate-1");
    candidateBundle = await loadBundle(built.path);
    abortingPath = await abortingBundle(dir, "aborting-1");
    active = await Stepup.create(world.stepup.bundle, { onError: () => {} });
    candidate = await Stepup.create(candidateBundle, { onError: () => {} });
    await world.stepup.setCandidate(candidateBundle);
    app = await expressApp(world.guard);
    const tokens = await Promise.all([
      world.accessToken({ sub: "alice@example.com", acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"], auth_time: world.now - 60 }),
      world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now - 30 }),
      world.accessToken({ sub: "bob@example.com", acr: "http://idmanagement.gov/ns/assurance/aal/1", amr: ["pwd"], auth_time: world.now - 7200 }),
      world.accessToken({ sub: "carol@example.com", acr: "phr", amr: ["swk"], auth_time: world.now - 600 }),
    ]);
    const postures = [
      await world.posture("laptop-1"),
      await world.posture("laptop-2", { compliant: false }),
      await world.posture("kiosk-1", { device_kind: "shared" }),
      undefined,
    ];
    stream = requests(world, tokens, postures, 29);
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await logger?.close();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Sends `count` requests of the stream, `concurrency` at a time; `midway` runs after half are sent. */
  async function serve(count: number, concurrency = 16, midway?: () => void, port = app.port): Promise<HttpResponse[]> {
    const responses: HttpResponse[] = [];
    for (let sent = 0; sent < count; sent += concurrency) {
      if (midway && sent >= count / 2 && sent - concurrency < count / 2) midway();
      const batch = Array.from({ length: Math.min(concurrency, count - sent) }, () => stream.next().value!);
      responses.push(...(await Promise.all(batch.map((r) => http({ port, ...r })))));
    }
    await world.stepup.settled();
    await logger.flush();
    return responses;
  }

  async function loggedEvents(): Promise<Map<string, DecisionLogEvent>> {
    const events = new Map<string, DecisionLogEvent>();
    for await (const event of readLogEvents([log])) events.set(event.decision_id, event);
    return events;
  }

  /** Every response is the answer to the decision of `revision`, checked against a direct evaluation. */
  function expectEnforcedBy(responses: HttpResponse[], events: Map<string, DecisionLogEvent>, revisionOf: (id: string) => Stepup) {
    for (const res of responses) {
      const id = res.body?.decision_id as string;
      expect(id, JSON.stringify(res.body)).toBeTypeOf("string");
      const event = events.get(id)!;
      expect(event, id).toBeDefined();
      const enforcer = revisionOf(id);
      expect(event.bundles?.stepup?.revision).toBe(enforcer.revision);
      const direct = enforcer.evaluate(parseInput(event.input));
      expect((event.result as { outcome: string }).outcome).toBe(direct.outcome);
      expect(res.status).toBe(direct.outcome === "step_up" && direct.requirement.kind === "workload" ? 403 : STATUS[direct.outcome]);
    }
  }

  it("serves 1,000 requests on the active revision, logging the candidate's outcome beside each", async () => {
    const responses = await serve(1_000);
    expect(responses).toHaveLength(1_000);
    const events = await loggedEvents();
    expectEnforcedBy(responses, events, () => active);

    const expected = new Map<string, number>();
    let disagreed = 0;
    for (const res of responses) {
      const event = events.get(res.body?.decision_id as string)!;
      const result = event.result as { outcome: string; tier: string };
      const shadow = event.custom?.shadow;
      const direct = candidate.evaluate(parseInput(event.input));
      expect(shadow).toEqual({ revision: "candidate-1", outcome: direct.outcome, tier: direct.tier, reasons: direct.reasons, score: direct.risk.score });
      const app = (event.input as { target: { app: string } }).target.app;
      const key = `${result.tier}|${app}|${result.outcome}|${direct.outcome}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
      if (direct.outcome !== result.outcome) disagreed++;
    }
    // The candidate changes some outcomes (the test would prove nothing otherwise), not all.
    expect(disagreed).toBeGreaterThan(0);
    expect(disagreed).toBeLessThan(1_000);

    const families = parse(await metrics.text());
    const transitions = new Map<string, number>();
    for (const m of families.find((f) => f.name === "stepup_shadow_transitions_total")!.metrics as { labels: Record<string, string>; value: string }[]) {
      transitions.set(`${m.labels.tier}|${m.labels.app}|${m.labels.from}|${m.labels.to}`, Number(m.value));
    }
    expect(transitions).toEqual(expected);
    const agreements = families.find((f) => f.name === "stepup_shadow_decisions_total")!.metrics as { labels: Record<string, string>; value: string }[];
    const total = (agreement: string) => agreements.filter((m) => m.labels.agreement === agreement).reduce((n, m) => n + Number(m.value), 0);
    expect(total("disagree")).toBe(disagreed);
    expect(total("agree")).toBe(1_000 - disagreed);

    // The review of the same log (stepup review) finds the same comparison.
    const report = await review(readLogEvents([log]));
    expect(report.kind).toBe("shadow");
    expect(report.summary).toMatchObject({ decisions: 1_000, compared: 1_000, changed: disagreed, not_compared: 0, candidate_failures: 0 });
    const byPair = new Map<string, number>();
    for (const [key, n] of expected) {
      const [, , from, to] = key.split("|");
      byPair.set(`${from}→${to}`, (byPair.get(`${from}→${to}`) ?? 0) + n);
    }
    expect(new Map(report.comparison!.transitions.map((t) => [`${t.from}→${t.to}`, t.decisions]))).toEqual(byPair);
  });

  it("changes nothing enforced when the candidate throws on every request", async () => {
    const failuresBefore = await failureCount();
    await world.stepup.loadCandidate(abortingPath);
    const responses = await serve(200);
    const events = await loggedEvents();
    expectEnforcedBy(responses, events, () => active);
    for (const res of responses) {
      const event = events.get(res.body?.decision_id as string)!;
      expect(event.error).toBeUndefined();
      expect(event.custom?.shadow).toMatchObject({ revision: "aborting-1", outcome: "deny", error: { code: "ERR_ENGINE_EVALUATION" } });
    }
    expect((await failureCount()) - failuresBefore).toBe(200);
  });

  it("does the same through Fastify", async () => {
    await world.stepup.setCandidate(candidateBundle);
    const other = await fastifyApp(world.guard);
    try {
      const responses = await serve(200, 16, undefined, other.port);
      const events = await loggedEvents();
      expectEnforcedBy(responses, events, () => active);
      for (const res of responses) {
        const event = events.get(res.body?.decision_id as string)!;
        expect(event.custom?.shadow).toMatchObject({ revision: "candidate-1", outcome: candidate.evaluate(parseInput(event.input)).outcome });
      }
    } finally {
      await other.close();
    }
  });

  it("switches enforcement at the promotion without a failed request, and logs the promotion", async () => {
    await world.stepup.setCandidate(candidateBundle);
    let promotedAfter = 0;
    const responses = await serve(400, 16, () => {
      promotedAfter = world.decisions.size;
      world.stepup.promote({ by: "journey-test" });
    });
    expect(responses).toHaveLength(400);
    const events = await loggedEvents();
    const revisions = responses.map((r) => events.get(r.body?.decision_id as string)?.bundles?.stepup?.revision);
    // Before the switch the active revision, after it the promoted one; nothing else, nothing failed.
    const firstPromoted = revisions.indexOf("candidate-1");
    expect(firstPromoted).toBeGreaterThan(0);
    expect(revisions.slice(0, firstPromoted).every((r) => r === "test-revision")).toBe(true);
    expect(revisions.slice(firstPromoted).every((r) => r === "candidate-1")).toBe(true);
    expect(promotedAfter).toBeGreaterThan(0);
    expectEnforcedBy(responses, events, (id) => (events.get(id)?.bundles?.stepup?.revision === "candidate-1" ? candidate : active));
    // After the promotion nothing is shadowed any more.
    for (const r of responses.slice(firstPromoted)) expect(events.get(r.body?.decision_id as string)?.custom).toBeUndefined();

    const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const rollouts = lines.filter((l) => l.msg === "stepup rollout").map((l) => RolloutRecordSchema.parse(l));
    expect(rollouts.map((r) => [r.action, r.active, r.candidate, r.by])).toEqual([
      ["candidate_set", "test-revision", "candidate-1", undefined],
      ["candidate_set", "test-revision", "aborting-1", undefined],
      ["candidate_set", "test-revision", "candidate-1", undefined],
      ["promoted", "candidate-1", undefined, "journey-test"],
    ]);
    // The promotion sits in the log between the last event of the old revision and the first of the new.
    const at = lines.findIndex((l) => l.action === "promoted");
    const bundleOf = (l: Record<string, unknown>) => (l.bundles as { stepup?: { revision?: string } } | undefined)?.stepup?.revision;
    expect(lines.slice(0, at).every((l) => l.msg === "stepup rollout" || bundleOf(l) === "test-revision")).toBe(true);
    expect(lines.slice(at + 1).every((l) => bundleOf(l) === "candidate-1")).toBe(true);
    const families = parse(await metrics.text());
    const rolloutCounts = families.find((f) => f.name === "stepup_rollouts_total")!.metrics as { labels: Record<string, string>; value: string }[];
    expect(Object.fromEntries(rolloutCounts.map((m) => [m.labels.action, Number(m.value)]))).toEqual({ candidate_set: 3, promoted: 1 });
  });

  async function failureCount(): Promise<number> {
    const family = parse(await metrics.text()).find((f) => f.name === "stepup_shadow_failures_total");
    return ((family?.metrics ?? []) as { value: string }[]).reduce((n, m) => n + Number(m.value), 0);
  }
});
