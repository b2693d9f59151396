/**
 * MFA fatigue through every integration: a password-only session asking again and again for a
 * target that needs two factors is prompted (each prompt recorded in the behaviour store by the
 * guard) until the policy's limit of prompts, then denied with `stop.mfa_fatigue` instead of
 * prompted once more. The same journey through the Guard, Express, Fastify and the Envoy server.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Config } from "../../src/contracts/config.js";
import type { Decision } from "../../src/contracts/decision.js";
import { ExtAuthzServer } from "../../src/enforcement/envoy/server.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { Stepup } from "../../src/stepup.js";
import { EDGE_AUDIENCE, makeEdge, protoObject, type Edge } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { fromOutcome } from "../support/envoy/answers.js";
import { http } from "../support/http.js";
import { PARIS, makeWorld, type World } from "../support/world.js";
import { expressApp, fastifyApp, type AppFactory, type RunningApp } from "./apps.js";

/** Asks until denied: every answer before the last must be a prompt, and the last a fatigue stop. */
async function untilDenied(ask: () => Promise<Decision>, limit: number): Promise<void> {
  const outcomes: string[] = [];
  for (let i = 0; i < limit; i++) {
    const decision = await ask();
    expect(decision.outcome, `request ${i + 1}`).toBe("step_up");
    outcomes.push(decision.outcome);
  }
  const last = await ask();
  expect(last.outcome).toBe("deny");
  expect(last.reasons.map((r) => r.code)).toContain("stop.mfa_fatigue");
  expect(last.obligations).toContain("notify_security");
}

let maxPrompts: number;
beforeAll(async () => {
  const stepup = await Stepup.load(inject("bundlePath"));
  maxPrompts = (stepup.bundle.data as { stepup: { config: Config } }).stepup.config.fatigue.max_prompts;
});

describe("MFA fatigue through the Guard", () => {
  let world: World;
  beforeAll(async () => {
    world = await makeWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("prompts up to the limit, then denies", async () => {
    const token = await world.accessToken({ sub: "guard-victim@example.com", acr: null, amr: ["pwd"], auth_time: world.now - 30 });
    const posture = await world.posture("laptop-1");
    await untilDenied(async () => {
      const result = await world.guard.check({ peer: "127.0.0.1", headers: { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS }, method: "GET", path: "/wiki/home", route: null });
      await result.learned;
      world.now += 30;
      return result.decision!;
    }, maxPrompts);
  });
});

describe.each<[string, AppFactory]>([
  ["Express", expressApp],
  ["Fastify", fastifyApp],
])("MFA fatigue through %s", (name, factory) => {
  let world: World;
  let app: RunningApp;
  beforeAll(async () => {
    world = await makeWorld();
    app = await factory(world.guard);
  });
  afterAll(async () => {
    await app?.close();
    await world?.close();
  });

  it("prompts up to the limit, then denies", async () => {
    const token = await world.accessToken({ sub: `${name}-victim@example.com`, acr: null, amr: ["pwd"], auth_time: world.now - 30 });
    const posture = await world.posture("laptop-1");
    await untilDenied(async () => {
      const res = await http({ port: app.port, method: "GET", path: "/wiki/home", headers: { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS } });
      const id = res.body?.decision_id as string;
      world.now += 30;
      expect(res.status).toBe(world.decisions.get(id)!.decision.outcome === "deny" ? 403 : 401);
      return world.decisions.get(id)!.decision;
    }, maxPrompts);
  });
});

describe("MFA fatigue through the Envoy server", () => {
  let edge: Edge;
  let server: ExtAuthzServer;
  let client: NodeEnvoyClient;
  const decided = new Map<string, Decision>();

  beforeAll(async () => {
    edge = await makeEdge();
    const stepup = await Stepup.load(inject("bundlePath"), { onError: () => {}, onDecision: (e) => decided.set(e.decision.decision_id, e.decision) });
    server = await ExtAuthzServer.fromSettings({ stepup, settings: edge.settings, signals: { geo: false, behavior: { store: new MemoryBehaviorStore() } }, guard: { onSignalError: () => {} } });
    client = new NodeEnvoyClient(`127.0.0.1:${await server.listen()}`);
  });
  afterAll(async () => {
    client?.close();
    await server?.close(1_000);
    await edge?.close();
  });

  it("prompts up to the limit, then denies", async () => {
    let now = 1_795_852_800;
    const claims = { sub: "envoy-victim@example.com", aud: EDGE_AUDIENCE, client_id: "web-app", jti: "fatigue", amr: ["pwd"], auth_time: now - 30 };
    const token = await edge.idp.sign(claims, { typ: "at+jwt", iat: now - 30, expiresIn: 3600 });
    await untilDenied(async () => {
      const check = { id: `fatigue-${now}`, time: now, method: "GET", path: "/wiki/home", headers: { host: "app.edge.test", authorization: `Bearer ${token}` }, address: "198.51.100.7", principal: null, certificate: null, extensions: {} };
      const answer = fromOutcome(await client.check(protoObject(check)));
      now += 30;
      const id = (answer.body as { decision_id?: string } | null)?.decision_id ?? answer.headers["x-stepup-decision-id"]!;
      return decided.get(id)!;
    }, maxPrompts);
  });
});
