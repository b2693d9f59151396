/**
 * Signal collection beside evaluation: what building the input costs per request with the
 * in-memory behaviour store and with a real redis-server on loopback (one EVALSHA per request),
 * next to the decision itself on the same input. Tokens and posture statements are verified on
 * every call (ES256), as in production; the JWKS comes from a file.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import type { BehaviorStore } from "../../src/signals/behavior/store.js";
import { Signals } from "../../src/signals/collect.js";
import type { RequestFacts } from "../../src/signals/request.js";
import { Stepup } from "../../src/stepup.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

const NOW = 1_795_852_800;
const ADDRESSES = ["198.51.100.7", "203.0.113.9", "192.0.2.10", "2001:db8::5"];

const suite: Suite = {
  name: "signals",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-signals-"));
    const redis = await startRedis(dir);
    const stores: BehaviorStore[] = [];
    try {
      const { privateKey, publicKey } = await generateKeyPair("ES256");
      const jwks = join(dir, "jwks.json");
      await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k", alg: "ES256" }] }));
      const sign = (claims: Record<string, unknown>, typ?: string) =>
        new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "k", ...(typ ? { typ } : {}) }).setIssuedAt(NOW - 10).setExpirationTime(NOW + 3600).sign(privateKey);
      const requests: RequestFacts[] = [];
      for (let i = 0; i < 16; i++) {
        const sub = `user-${i}@example.com`;
        const token = await sign({ iss: "https://idp.test", sub, aud: "api", client_id: "web", jti: `j${i}`, acr: "phr", amr: ["hwk"], auth_time: NOW - 60 }, "at+jwt");
        const posture = await sign({ iss: "https://mdm.test", sub: `laptop-${i}`, managed: true, compliant: true });
        const headers = { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": ADDRESSES[i % ADDRESSES.length]! };
        requests.push({ peer: "127.0.0.1", headers, method: i % 3 === 0 ? "POST" : "GET", path: i % 3 === 0 ? "/admin/users" : "/wiki/home", route: null });
      }
      const make = (store: BehaviorStore, cacheSize?: number) =>
        Signals.create({
          clock: () => NOW,
          session: { keys: { jwksFile: jwks }, issuer: "https://idp.test", audience: "api", ...(cacheSize === undefined ? {} : { cacheSize }) },
          device: { keys: { jwksFile: jwks }, issuer: "https://mdm.test", ...(cacheSize === undefined ? {} : { cacheSize }) },
          network: { trustedProxies: ["127.0.0.1"], zones: { corporate: ["198.51.100.0/24"] } },
          geo: { cityDb: "test/fixtures/geo/test-city.mmdb", asnDb: "test/fixtures/geo/test-asn.mmdb" },
          behavior: { store },
          targets: { routes: [{ path: "/wiki/:page", app: "wiki" }, { method: "POST", path: "/admin/users", app: "admin-console", action: "admin" }] },
        });
      const memoryStore = new MemoryBehaviorStore();
      const redisStore = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: redis.port });
      stores.push(memoryStore, redisStore);
      const memory = await make(memoryStore);
      const remote = await make(redisStore);
      const uncached = await make(memoryStore, 0);
      // History for every subject, so that each observation reads real data.
      for (const req of requests) {
        await memory.recordLogin(await memory.collect(req));
        await remote.recordLogin(await remote.collect(req));
      }
      const stepup = await Stepup.load(ctx.bundlePath);
      const inputs = await Promise.all(requests.map(async (r) => (await memory.collect(r)).input));
      const next = { memory: cycle(requests), redis: cycle(requests), cold: cycle(requests), input: cycle(inputs) };
      const [collectMemory, collectRedis, collectCold, decide] = await measure(
        {
          "collect signals, in-memory store (tokens already verified once)": () => memory.collect(next.memory()),
          "collect signals, Redis store on loopback (+1 EVALSHA)": () => remote.collect(next.redis()),
          "collect signals, in-memory store, no token cache (2 ES256 verifications)": () => uncached.collect(next.cold()),
          "decide on the collected input (evaluation)": () => stepup.decideInput(next.input()),
        },
        ctx,
      );
      if (!collectMemory || !collectRedis || !collectCold || !decide) throw new Error("missing measurement");
      return {
        suite: "signals",
        measurements: [collectMemory, collectRedis, collectCold, decide],
        ratios: [
          ratio("collect (memory) / decide (median)", collectMemory.median_us / decide.median_us),
          ratio("collect (Redis) / collect (memory) (median)", collectRedis.median_us / collectMemory.median_us),
          ratio("collect without token cache / with (median)", collectCold.median_us / collectMemory.median_us),
        ],
        notes: [
          "16 subjects, each with an ES256 access token and an ES256 posture statement; without the cache both are verified on every request, which is most of the cost.",
          "Redis is a local redis-server on 127.0.0.1 started by the suite; one EVALSHA per collection (see test/signals/redis-round-trip.test.ts).",
        ],
      };
    } finally {
      for (const s of stores) await s.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;

async function startRedis(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer().once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${out}`)), 10_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not start (apt-get install -y redis-server): ${e.message}`));
    });
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
