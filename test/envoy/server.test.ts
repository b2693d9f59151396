/**
 * The Node ext_authz server beyond parity: the SDK's full signal collection through Envoy
 * (geography and the behaviour store: a login in Paris, then Tokyo an hour later), gRPC health
 * checking, graceful shutdown with a call in flight, and the failure mode when stepup cannot
 * decide (a behaviour store that is down, a check that overruns its deadline). Real parts: Redis
 * from Debian's package, the geography fixtures, a JWKS served over loopback HTTP.
 */
import { createServer, type Server as HttpServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Input } from "../../src/contracts/input.js";
import { Guard } from "../../src/enforcement/guard.js";
import { ExtAuthzServer, type FailureMode } from "../../src/enforcement/envoy/server.js";
import { envoySignalsOptions } from "../../src/enforcement/envoy/settings.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import { Signals } from "../../src/signals/collect.js";
import { Stepup } from "../../src/stepup.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { loadBundle } from "../../src/bundle/load.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import { weightRaisedBundle } from "../support/bundles.js";
import { canonical, comparable, fromOutcome, inProcessAnswer } from "../support/envoy/answers.js";
import { EDGE_AUDIENCE, EDGE_REALM, makeEdge, protoObject, type Edge, type EdgeCheck } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { startRedis } from "../support/redis-server.js";
import { PARIS, TOKYO } from "../support/world.js";

const require = createRequire(import.meta.url);
const T0 = 1_795_852_800;
let edge: Edge;
let stepup: Stepup;
const decided = new Map<string, Input>();

beforeAll(async () => {
  edge = await makeEdge();
  stepup = await Stepup.load(inject("bundlePath"), { onError: () => {}, onDecision: (e) => decided.set(e.decision.decision_id, e.input) });
});

afterAll(async () => {
  await edge?.close();
});

function check(overrides: Partial<EdgeCheck>): Record<string, unknown> {
  return protoObject({ id: `r-${Math.random()}`, time: T0, method: "GET", path: "/wiki/home", headers: { host: "app.edge.test" }, address: PARIS, principal: null, certificate: null, extensions: {}, ...overrides });
}

async function bearer(claims: Record<string, unknown>, iat: number): Promise<Record<string, string>> {
  const token = await edge.idp.sign({ sub: "alice@example.com", aud: EDGE_AUDIENCE, client_id: "web", jti: `j-${Math.random()}`, ...claims }, { typ: "at+jwt", iat, expiresIn: 7200 });
  return { host: "app.edge.test", authorization: `Bearer ${token}` };
}

/** A managed laptop's signed posture statement for alice, as device management issues it. */
async function laptop(iat: number): Promise<Record<string, string>> {
  const claims = { sub: "laptop-1", user: "alice@example.com", managed: true, compliant: true, disk_encrypted: true, edr_running: true, os_patch_age_days: 3, device_kind: "laptop" };
  return { "x-device-posture": await edge.mdm.sign(claims, { iat, expiresIn: 3600 }) };
}

async function serve(server: ExtAuthzServer): Promise<NodeEnvoyClient> {
  return new NodeEnvoyClient(`127.0.0.1:${await server.listen()}`);
}

describe("the Node ext_authz server", () => {
  it("answers on the active revision while a candidate decides in report-only mode beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stepup-edge-shadow-"));
    const candidate = await loadBundle((await weightRaisedBundle(dir, "edge-candidate")).path);
    const events: DecisionEvent[] = [];
    const shadowed = await Stepup.load(inject("bundlePath"), { onError: () => {}, onDecision: (e) => events.push(e), onRollout: () => {} });
    await shadowed.setCandidate(candidate);
    const active = await Stepup.load(inject("bundlePath"), { onError: () => {} });
    const alone = await Stepup.create(candidate, { onError: () => {} });
    const server = await ExtAuthzServer.fromSettings({ stepup: shadowed, settings: edge.settings, guard: { onSignalError: () => {} } });
    const client = await serve(server);
    try {
      const mfa = { acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"] };
      const requests = [
        check({}),
        check({ headers: await bearer({ ...mfa, auth_time: T0 }, T0) }),
        check({ headers: { ...(await bearer({ acr: "phrh", amr: ["hwk"], auth_time: T0 }, T0)), ...(await laptop(T0)) } }),
        check({ method: "POST", path: "/admin/users", headers: { ...(await bearer({ ...mfa, auth_time: T0 - 7200 }, T0)), ...(await laptop(T0)) } }),
        check({ address: TOKYO, headers: await bearer({ ...mfa, auth_time: T0 }, T0) }),
      ];
      const answers = [];
      for (const request of requests) answers.push(fromOutcome(await client.check(request)));
      await shadowed.settled();
      expect(events).toHaveLength(requests.length);
      for (const [i, event] of events.entries()) {
        expect(event.decision.policy.revision).toBe("test-revision");
        expect(answers[i]!.allowed).toBe(event.decision.outcome === "allow");
        expect(event.decision.outcome).toBe(active.evaluate(event.input).outcome);
        const direct = alone.evaluate(event.input);
        expect(event.shadow).toMatchObject({ revision: "edge-candidate", outcome: direct.outcome, reasons: direct.reasons });
      }
    } finally {
      client.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("collects geography and behaviour: Tokyo an hour after a Paris login is impossible travel", async () => {
    const store = new MemoryBehaviorStore();
    const server = await ExtAuthzServer.fromSettings({
      stepup,
      settings: edge.settings,
      signals: { geo: { cityDb: "test/fixtures/geo/test-city.mmdb", asnDb: "test/fixtures/geo/test-asn.mmdb" }, behavior: { store } },
      guard: { onSignalError: () => {} },
    });
    const client = await serve(server);
    try {
      const mfa = { acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"] };
      const paris = fromOutcome(await client.check(check({ address: PARIS, headers: { ...(await bearer({ ...mfa, auth_time: T0 }, T0)), ...(await laptop(T0)) } })));
      expect(paris.allowed).toBe(true);
      // The server learnt from the request it allowed on a session that met its requirement.
      const later = T0 + 3600;
      const tokyo = fromOutcome(await client.check(check({ time: later, address: TOKYO, headers: { ...(await bearer({ ...mfa, auth_time: later }, later)), ...(await laptop(later)) } })));
      const id = (tokyo.body as { decision_id?: string } | null)?.decision_id ?? "";
      const input = decided.get(id);
      expect(input?.geo).toMatchObject({ country: "JP", previous: { country: "FR", time: T0 } });
      expect(input?.geo?.distance_km).toBeGreaterThan(9000);
      expect(input?.familiarity?.unfamiliar).toContain("country");
      const decision = stepup.decideInput(input!);
      expect(decision.risk.contributions.map((c) => c.signal)).toContain("geo.impossible_travel");
      expect(decision.outcome).not.toBe("allow");
      expect(canonical(comparable(tokyo))).toBe(canonical(comparable(inProcessAnswer(decision, true, EDGE_REALM))));
      // A step-up challenge sent counts as a prompt, for MFA-fatigue detection.
      const features = { asn: null, country: null, location: null, device: null, attestation: "none", browser: null, hour: "weekday-0", app: "wiki" };
      const seen = await store.observe("alice@example.com", { now: later + 1, features });
      expect(seen.promptsRecent).toBe(decision.outcome === "step_up" ? 1 : 0);
    } finally {
      client.close();
      await server.close(1_000);
    }
  });

  it("serves gRPC health: SERVING, then NOT_SERVING once shutting down", async () => {
    const server = await ExtAuthzServer.fromSettings({ stepup, settings: edge.settings, signals: { geo: false } });
    const port = await server.listen();
    const definition = loader.loadSync(join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health/v1/health.proto"), { keepCase: true, enums: String });
    const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
    const health = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      for (const service of ["", "envoy.service.auth.v3.Authorization"]) {
        const answer = await new Promise<{ status: string }>((resolve, reject) => health.Check({ service }, (err: Error | null, r: { status: string }) => (err ? reject(err) : resolve(r))));
        expect(answer.status).toBe("SERVING");
      }
      const watch = health.Watch({ service: "" });
      const statuses: string[] = [];
      const notServing = new Promise<void>((resolve) => {
        watch.on("data", (r: { status: string }) => {
          statuses.push(r.status);
          if (r.status === "NOT_SERVING") resolve();
        });
        watch.on("error", () => resolve());
      });
      await new Promise((r) => setTimeout(r, 100));
      const closing = server.close(5_000);
      await notServing;
      watch.cancel();
      await closing;
      expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    } finally {
      health.close();
    }
  });

  it("finishes a call in flight on shutdown, then refuses new ones", async () => {
    const slow = await slowJwks(400);
    const signals = await Signals.create({ ...envoySignalsOptions(edge.settings), session: { keys: { jwksUrl: slow.url }, issuer: edge.idp.issuer, audience: EDGE_AUDIENCE }, geo: false });
    const server = new ExtAuthzServer(new Guard(stepup, signals, { onSignalError: () => {} }), { settings: edge.settings, timeoutMs: 10_000 });
    const client = await serve(server);
    try {
      const inFlight = client.check(check({ headers: await bearer({ acr: "phr", amr: ["hwk"], auth_time: T0 - 60 }, T0) }));
      await slow.requested;
      await server.close(10_000);
      const answer = fromOutcome(await inFlight);
      expect(answer.grpc).toBe(0);
      expect(answer.allowed).toBe(true);
      const after = await client.check(check({}));
      expect(after.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
      await slow.close();
    }
  });

  describe("failure mode when stepup cannot decide", () => {
    let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
    let store: RedisBehaviorStore | undefined;

    beforeAll(async () => {
      redis = await startRedis();
      store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: redis.port });
      await redis.stop(); // the store is now down: every decision on a sensitive target fails closed
    });

    afterAll(async () => {
      await store?.close().catch(() => undefined);
      await redis?.stop();
    });

    async function answerWith(mode: FailureMode | undefined, app: string) {
      const reported: string[] = [];
      const server = await ExtAuthzServer.fromSettings({
        stepup,
        settings: edge.settings,
        signals: { geo: false, behavior: { store: store! } },
        guard: { onSignalError: () => {} },
        ...(mode && { failureMode: mode }),
        onError: (e) => reported.push(e.code),
      });
      const client = await serve(server);
      try {
        const headers = await bearer({ acr: "phrh", amr: ["hwk"], auth_time: T0 - 60 }, T0);
        const outcome = await client.check(check({ headers, extensions: { stepup_app: app } }));
        return { outcome, answer: fromOutcome(outcome), reported };
      } finally {
        client.close();
        await server.close(1_000);
      }
    }

    it("denies by default (the fail-closed 403)", async () => {
      const { answer } = await answerWith(undefined, "payroll");
      expect(answer).toMatchObject({ status: 7, http_status: 403, body: { error: "access_denied", reasons: ["engine.failure"] } });
      expect(answer.metadata).toMatchObject({ outcome: "deny" });
    });

    it("allows with x-stepup-failure when told to, and says why", async () => {
      const { answer, reported } = await answerWith("allow", "payroll");
      expect(answer).toMatchObject({ status: 0, allowed: true, headers: { "x-stepup-failure": "ERR_BEHAVIOR_STORE" } });
      expect(reported).toEqual(["ERR_BEHAVIOR_STORE"]);
    });

    it("answers gRPC UNAVAILABLE in error mode, leaving it to Envoy's failure_mode_allow", async () => {
      const { outcome } = await answerWith("error", "payroll");
      expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
      expect(outcome.message).toContain("ERR_BEHAVIOR_STORE");
    });

    it("decides as usual where a failed source only leaves behaviour unknown", async () => {
      for (const mode of ["deny", "allow", "error"] as const) {
        const { answer } = await answerWith(mode, "wiki");
        expect(answer).toMatchObject({ grpc: 0, status: 0, allowed: true });
        expect(answer.headers["x-stepup-failure"]).toBeUndefined();
      }
    });
  });

  it("counts a check that overruns its deadline as a failure to decide", async () => {
    const slow = await slowJwks(1_000);
    const signals = await Signals.create({ ...envoySignalsOptions(edge.settings), session: { keys: { jwksUrl: slow.url }, issuer: edge.idp.issuer, audience: EDGE_AUDIENCE }, geo: false });
    const reported: string[] = [];
    const server = new ExtAuthzServer(new Guard(stepup, signals, { onSignalError: () => {} }), { settings: edge.settings, timeoutMs: 100, onError: (e) => reported.push(e.code) });
    const client = await serve(server);
    try {
      const answer = fromOutcome(await client.check(check({ headers: await bearer({ acr: "phr", amr: ["hwk"], auth_time: T0 - 60 }, T0) })));
      expect(answer).toMatchObject({ status: 7, http_status: 403, body: { reasons: ["engine.failure"] } });
      expect(reported).toEqual(["ERR_ENGINE_TIMEOUT"]);
    } finally {
      client.close();
      await server.close(2_000);
      await slow.close();
    }
  });
});

/** The identity provider's JWKS over loopback HTTP, answered after `delayMs` (a slow key server). */
async function slowJwks(delayMs: number): Promise<{ url: string; requested: Promise<void>; close(): Promise<void> }> {
  let markRequested: () => void = () => {};
  const requested = new Promise<void>((resolve) => (markRequested = resolve));
  const timers = new Set<NodeJS.Timeout>();
  const server: HttpServer = createServer((_req, res) => {
    markRequested();
    const timer = setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(edge.idp.jwks)), delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    requested,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
