/**
 * Internal failures fail closed on sensitive targets: Redis going away, posture keys that cannot
 * be fetched, a route nobody mapped. Elsewhere the failed signal is unknown and the policy decides.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import { http } from "../support/http.js";
import { startRedis, type RedisServer } from "../support/redis-server.js";
import { PARIS, makeWorld, type World } from "../support/world.js";
import { expressApp, fastifyApp, type RunningApp } from "./apps.js";

describe("when the behaviour store fails", () => {
  let redis: RedisServer;
  let world: World;
  let express: RunningApp;
  let fastify: RunningApp;
  let token: string;
  let posture: string;

  beforeAll(async () => {
    redis = await startRedis();
    const store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: redis.port, commandTimeout: 200 });
    world = await makeWorld({ store });
    [express, fastify] = await Promise.all([expressApp(world.guard), fastifyApp(world.guard)]);
    token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now - 30 });
    posture = await world.posture("laptop-1");
  });
  afterAll(async () => {
    await Promise.all([express?.close(), fastify?.close()]);
    await world?.store.close();
    await world?.close();
    await redis?.stop();
  });

  const headers = () => ({ authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS });

  it("decides with behaviour while Redis answers", async () => {
    const result = await world.guard.check({ peer: "127.0.0.1", headers: headers(), method: "GET", path: "/payroll/1", route: null });
    expect(result.error).toBeNull();
    expect(result.collected?.input.behavior).not.toBeNull();
  });

  it("denies sensitive targets and decides the others without behaviour once Redis is gone", async () => {
    await redis.stop();
    for (const app of [express, fastify]) {
      const sensitive = await http({ port: app.port, path: "/payroll/1", headers: headers() });
      expect(sensitive.status).toBe(403);
      const denied = world.decisions.get(sensitive.body?.decision_id as string)!.decision;
      expect(denied.error?.code).toBe("ERR_BEHAVIOR_STORE");
      expect(denied.reasons.map((r) => r.code)).toEqual(["engine.failure"]);

      const low = await http({ port: app.port, path: "/news", headers: headers() });
      const decided = world.decisions.get(low.body?.decision_id as string)!;
      expect(decided.decision.error).toBeUndefined();
      expect(decided.input.behavior).toBeNull();
      expect(decided.input.geo?.previous).toBeNull();
      expect(low.status).toBe(decided.decision.outcome === "allow" ? 200 : decided.decision.outcome === "deny" ? 403 : 401);
    }
  });
});

describe("other internal failures", () => {
  let world: World;
  let express: RunningApp;
  beforeAll(async () => {
    world = await makeWorld();
    express = await expressApp(world.guard);
  });
  afterAll(async () => {
    await express?.close();
    await world?.close();
  });

  it("denies a route that no mapping names (Express, app-wide)", async () => {
    const res = await http({ port: express.port, path: "/unmapped/thing", headers: { "x-forwarded-for": PARIS } });
    expect(res.status).toBe(403);
    expect(world.decisions.get(res.body?.decision_id as string)?.decision.error?.code).toBe("ERR_TARGET_UNMAPPED");
  });

  it("denies sensitive targets when the posture keys cannot be fetched", async () => {
    const token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now - 30 });
    const posture = await world.posture("laptop-1");
    await world.close(); // stops the MDM's JWKS server; the key set was never fetched before
    const res = await http({ port: express.port, path: "/payroll/1", headers: { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS } });
    expect(res.status).toBe(403);
    expect(world.decisions.get(res.body?.decision_id as string)?.decision.error?.code).toBe("ERR_KEYS_UNAVAILABLE");
  });
});
