/**
 * One Redis round trip per decision, counted on the server: MONITOR shows every command a client
 * sends (and, marked "lua", those a script runs). Collecting the signals for N requests must send
 * exactly N reads from the store's connection, each one EVALSHA of the observe script; what the
 * guard learns afterwards (a proven request, a prompt sent) is one write each, off the decision.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import { OBSERVE } from "../../src/signals/behavior/redis-scripts.js";
import { startRedis, type RedisServer } from "../support/redis-server.js";
import { PARIS, TOKYO, makeWorld, type World } from "../support/world.js";

describe("Redis round trips", () => {
  let redis: RedisServer;
  let store: RedisBehaviorStore;
  let world: World;
  let monitor: Awaited<ReturnType<Redis["monitor"]>>;
  let admin: Redis;
  const seen: { args: string[]; source: string }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: redis.port });
    world = await makeWorld({ store });
    admin = new Redis({ host: "127.0.0.1", port: redis.port });
    monitor = await admin.monitor();
    monitor.on("monitor", (_time: string, args: string[], source: string) => seen.push({ args, source }));
  });
  afterAll(async () => {
    monitor?.disconnect();
    admin?.disconnect();
    await store?.close();
    await world?.close();
    await redis?.stop();
  });

  it("sends exactly one command (EVALSHA) per decision", async () => {
    const token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now - 30 });
    const posture = await world.posture("laptop-1");
    const first = await world.guard.check({ peer: "127.0.0.1", headers: { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS }, method: "GET", path: "/news", route: null });
    await world.guard.recordLogin(first); // history, so that the decisions below read real data
    await new Promise((r) => setTimeout(r, 100));
    seen.length = 0;
    const decisions = 20;
    let learnt = 0;
    for (let i = 0; i < decisions; i++) {
      const xff = i % 2 === 0 ? PARIS : TOKYO;
      const result = await world.guard.check({ peer: "127.0.0.1", headers: { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": xff }, method: "GET", path: "/wiki/home", route: null });
      expect(result.collected?.input.familiarity?.unfamiliar).not.toContain("device");
      await result.learned;
      if (result.decision?.outcome === "allow" && result.decision.satisfied) learnt++;
    }
    await new Promise((r) => setTimeout(r, 200)); // MONITOR lines arrive asynchronously
    const local = `127.0.0.1:${(store.client as unknown as { stream: { localPort: number } }).stream.localPort}`;
    const fromStore = seen.filter((e) => e.source === local);
    const observeSha = createHash("sha1").update(OBSERVE).digest("hex");
    const reads = fromStore.filter((e) => e.args[1] === observeSha);
    expect(reads.length).toBe(decisions);
    expect(learnt).toBeGreaterThan(0);
    expect(fromStore.length).toBe(decisions + learnt);
    expect(new Set(fromStore.map((e) => e.args[0]?.toLowerCase()))).toEqual(new Set(["evalsha"]));
    // The script's own reads run inside that one command, on the server.
    expect(seen.filter((e) => e.source === "lua").length).toBeGreaterThanOrEqual(decisions * 4);
  });
});
