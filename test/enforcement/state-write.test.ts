/**
 * State writes that fail do not lose the login: with Redis down, the documented `/login/complete`
 * answers 503 with Retry-After and a JSON body naming ERR_STATE_WRITE_FAILED — never an HTML
 * stack trace — in Express (with stepupExpressErrors) and in Fastify (its own error handler reads
 * the error's status and headers); the error's record, kept, is applied once Redis is back.
 */
import express from "express";
import Fastify from "fastify";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepupExpress, stepupExpressErrors } from "../../src/enforcement/express.js";
import { stepupFastify } from "../../src/enforcement/fastify.js";
import type { Guard } from "../../src/enforcement/guard.js";
import { StateWriteError } from "../../src/errors.js";
import type { BehaviorRecord } from "../../src/signals/behavior/records.js";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import { http } from "../support/http.js";
import { startRedis, type RedisServer } from "../support/redis-server.js";
import { makeWorld, PARIS, type World } from "../support/world.js";

type App = { port: number; close(): Promise<void> };

/** The documented login endpoint (docs/http.md); a failed write's record goes to `outbox` (an app's retry queue). */
async function expressApp(guard: Guard, outbox: BehaviorRecord[]): Promise<App> {
  const app = express();
  app.post("/login/complete", stepupExpress(guard, { target: { app: "intranet", action: "read" } }), async (req, res) => {
    try {
      await guard.recordLogin(req.stepup!);
    } catch (err) {
      if (err instanceof StateWriteError) outbox.push(err.record as BehaviorRecord);
      throw err;
    }
    res.sendStatus(204);
  });
  app.use(stepupExpressErrors());
  const server = await new Promise<import("node:http").Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

async function fastifyApp(guard: Guard, outbox: BehaviorRecord[]): Promise<App> {
  const app = Fastify();
  await app.register(stepupFastify, { guard });
  app.post("/login/complete", { config: { stepup: { app: "intranet", action: "read" } } }, async (request, reply) => {
    try {
      await guard.recordLogin(request.stepup!);
    } catch (err) {
      if (err instanceof StateWriteError) outbox.push(err.record as BehaviorRecord);
      throw err;
    }
    return reply.code(204).send();
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

describe.each([
  ["Express", expressApp],
  ["Fastify", fastifyApp],
] as const)("a login recorded with Redis down, in %s", (_name, factory) => {
  let redis: RedisServer;
  let store: RedisBehaviorStore;
  let world: World;
  let app: App;
  const outbox: BehaviorRecord[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: redis.port });
    world = await makeWorld({ store });
    app = await factory(world.guard, outbox);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await world?.close();
    await redis?.stop();
  });

  it("answers 503 with Retry-After and JSON, and keeps the login as a record that applies once Redis is back", async () => {
    const token = await world.accessToken({ sub: "alice@example.com", acr: "phr", amr: ["hwk"], auth_time: world.now });
    const login = () =>
      http({ port: app.port, method: "POST", path: "/login/complete", headers: { authorization: `Bearer ${token}`, "x-forwarded-for": PARIS } });
    expect((await login()).status).toBe(204);

    await redis.stop();
    const res = await login();
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(String(res.headers["content-type"])).toMatch(/^application\/json/);
    expect(JSON.stringify(res.body)).not.toMatch(/<html|<pre|\s+at\s+\S+\s\(/i);
    expect(res.body).toMatchObject({ code: "ERR_STATE_WRITE_FAILED" });
    expect(outbox).toEqual([{ kind: "login", subject: "alice@example.com", login: expect.objectContaining({ time: world.now }) }]);

    redis = await startRedis(redis.port);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await world.guard.retryRecord(outbox[0]!);
        break;
      } catch (err) {
        if (!(err instanceof StateWriteError) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const features = { asn: null, country: null, location: null, device: null, attestation: "none", browser: null, hour: "weekday-0", app: "intranet" };
    const seen = await store.observe("alice@example.com", { now: world.now, features });
    expect(seen.last?.time).toBe(world.now);
  });
});
