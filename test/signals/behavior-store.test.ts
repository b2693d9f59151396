/**
 * One behaviour-store suite, run against the in-memory store, a real redis-server and a real
 * three-master Redis Cluster started here: all must remember the same things, for the same time,
 * with the same bounds, and answer the same sequences of records with the same observations.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Feature } from "../../src/contracts/input.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { FEATURES, UNIT } from "../../src/signals/behavior/profile.js";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import type { BehaviorStore, Features, LoginEvent, Observation } from "../../src/signals/behavior/store.js";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { startRedis, type RedisServer } from "../support/redis-server.js";

const T = 1_795_824_000; // a midnight, UTC
const DAY = 86_400;
const windows = { failures: 900, prompts: 600, retention: 30 * DAY, maxMembers: 3, halfLifeDays: 10, relearn: 3_600 };
let server: RedisServer;
let cluster: RedisCluster;
let admin: Redis;
let subjectSeq = 0;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  admin = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await admin.connect();
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

const stores: [string, () => Promise<BehaviorStore>][] = [
  ["in-memory", async () => new MemoryBehaviorStore({ windows })],
  ["redis", async () => RedisBehaviorStore.connect({ host: "127.0.0.1", port: server.port }, { windows })],
  ["redis cluster", async () => RedisBehaviorStore.connectCluster(cluster.nodes, { commandTimeout: 2_000 }, { windows })],
];

const HOME: Features = { asn: "64500", country: "FR", location: "48,2", device: "laptop-1", attestation: "attested", browser: "Firefox", hour: "weekday-3", app: "wiki" };
const NOWHERE: Features = { asn: null, country: null, location: null, device: null, attestation: "none", browser: null, hour: "weekday-0", app: "wiki" };

function login(time: number, features: Partial<Features> = {}, place: Partial<LoginEvent> = {}): LoginEvent {
  return { time, features: { ...HOME, ...features }, country: "FR", lat: 48.8566, lon: 2.3522, accuracyKm: 20, anonymized: false, ...place };
}

const seen = (obs: Observation, feature: Feature) => obs.profile[feature].seen / UNIT;
const total = (obs: Observation, feature: Feature) => obs.profile[feature].total / UNIT;

describe.each(stores)("behaviour store: %s", (_name, open) => {
  let store: BehaviorStore;
  let subject: string;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  // Each test gets its own subject so that they do not see each other's history.
  const fresh = () => (subject = `user-${++subjectSeq}@example.com`);

  it("knows nothing about a subject it has never seen", async () => {
    fresh();
    const obs = await store.observe(subject, { now: T, features: HOME });
    expect(obs.last).toBeNull();
    expect(obs.history).toBe(0);
    for (const feature of FEATURES) expect(obs.profile[feature]).toEqual({ seen: 0, total: 0 });
    expect([obs.failuresRecent, obs.promptsRecent]).toEqual([0, 0]);
  });

  it("remembers the last login and counts each feature's value and total", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    await store.recordLogin(subject, login(T + 2 * 3_600, { asn: "64501" }));
    const same = await store.observe(subject, { now: T + 3 * 3_600, features: HOME });
    expect(same.last).toEqual({ time: T + 7_200, country: "FR", lat: 48.8566, lon: 2.3522, accuracyKm: 20, anonymized: false });
    expect(same.history).toBe(2 * UNIT);
    expect([seen(same, "asn"), total(same, "asn")]).toEqual([1, 2]);
    expect([seen(same, "device"), total(same, "device")]).toEqual([2, 2]);
    const other = await store.observe(subject, { now: T + 3 * 3_600, features: { ...HOME, asn: "64999", device: "laptop-2" } });
    expect([seen(other, "asn"), seen(other, "device"), seen(other, "country")]).toEqual([0, 0, 2]);
  });

  it("counts a value that is not known as nothing, and learns nothing from one", async () => {
    fresh();
    await store.recordLogin(subject, login(T, NOWHERE, { country: null, lat: null, lon: null, accuracyKm: null, anonymized: true }));
    const obs = await store.observe(subject, { now: T + 1, features: NOWHERE });
    expect(obs.last).toEqual({ time: T, country: null, lat: null, lon: null, accuracyKm: null, anonymized: true });
    expect([total(obs, "asn"), total(obs, "device"), total(obs, "browser")]).toEqual([0, 0, 0]);
    expect([seen(obs, "attestation"), seen(obs, "app")]).toEqual([1, 1]);
  });

  it("counts the same context learnt again within the relearn window once", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    await store.recordLogin(subject, login(T + 600));
    await store.recordLogin(subject, login(T + 3_599));
    expect((await store.observe(subject, { now: T + 3_600, features: HOME })).history).toBe(UNIT);
    await store.recordLogin(subject, login(T + 3_600));
    await store.recordLogin(subject, login(T + 3_700, { app: "crm" }));
    expect((await store.observe(subject, { now: T + 3_800, features: HOME })).history).toBe(3 * UNIT);
  });

  it("decays counts by whole days: half after the half-life", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    const now = await store.observe(subject, { now: T + DAY - 1, features: HOME });
    const later = await store.observe(subject, { now: T + windows.halfLifeDays * DAY, features: HOME });
    expect(now.history).toBe(UNIT);
    expect(later.history).toBe(UNIT / 2);
    expect(later.profile.device.seen).toBe(UNIT / 2);
  });

  it("never lets an older login replace a newer one as the last", async () => {
    fresh();
    await store.recordLogin(subject, login(T + 100, {}, { country: "JP" }));
    await store.recordLogin(subject, login(T, { country: "FR", app: "crm" }, { country: "FR" }));
    const obs = await store.observe(subject, { now: T + 200, features: HOME });
    expect(obs.last?.time).toBe(T + 100);
    expect(obs.last?.country).toBe("JP");
    expect(obs.history).toBe(2 * UNIT); // the older login still taught the profile
  });

  it("counts failed attempts within the failure window only", async () => {
    fresh();
    for (const dt of [0, 100, 200]) await store.recordFailure(subject, T + dt);
    expect((await store.observe(subject, { now: T + 300, features: HOME })).failuresRecent).toBe(3);
    expect((await store.observe(subject, { now: T + 950, features: HOME })).failuresRecent).toBe(2);
    expect((await store.observe(subject, { now: T + 1200, features: HOME })).failuresRecent).toBe(0);
  });

  it("counts prompts within the fatigue window, even two in the same second", async () => {
    fresh();
    await store.recordPrompt(subject, T);
    await store.recordPrompt(subject, T);
    await store.recordPrompt(subject, T + 500);
    expect((await store.observe(subject, { now: T + 550, features: HOME })).promptsRecent).toBe(3);
    expect((await store.observe(subject, { now: T + 700, features: HOME })).promptsRecent).toBe(1);
  });

  it("forgets the profile and the last login after the retention period", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    const obs = await store.observe(subject, { now: T + windows.retention + 1, features: HOME });
    expect(obs.last).toBeNull();
    expect(obs.history).toBe(0);
    expect(obs.profile.device).toEqual({ seen: 0, total: 0 });
  });

  it("keeps at most maxMembers values per feature, dropping the least seen", async () => {
    fresh();
    for (let i = 0; i < 5; i++) await store.recordLogin(subject, login(T + i * 3_600, { device: `d${i}` }));
    await store.recordLogin(subject, login(T + 10 * 3_600, { device: "d4" }));
    const known = [];
    for (let i = 0; i < 5; i++) known.push(seen(await store.observe(subject, { now: T + 11 * 3_600, features: { ...HOME, device: `d${i}` } }), "device"));
    expect(known).toEqual([0, 0, 1, 1, 2]);
  });

  it("keeps subjects apart, and observing changes nothing", async () => {
    const a = fresh();
    const b = fresh();
    await store.recordLogin(a, login(T));
    await store.observe(b, { now: T, features: HOME });
    const obs = await store.observe(b, { now: T + 1, features: HOME });
    expect(obs.last).toBeNull();
    expect(obs.history).toBe(0);
  });
});

describe("every store answers alike", () => {
  let all: BehaviorStore[];
  beforeAll(async () => {
    all = await Promise.all(stores.map(([, open]) => open()));
  });
  afterAll(async () => {
    await Promise.all(all.map((s) => s.close()));
  });

  const value = (feature: Feature) => fc.constantFrom(`${feature}-a`, `${feature}-b`, `${feature}-c`, `${feature}-d`, `${feature}-e`);
  const features = fc.record(Object.fromEntries(FEATURES.map((f) => [f, fc.option(value(f), { nil: null })])) as Record<Feature, fc.Arbitrary<string | null>>);
  const step = fc.oneof(
    fc.record({ kind: fc.constant("login" as const), dt: fc.integer({ min: 0, max: 3 * DAY }), features }),
    fc.record({ kind: fc.constant("prompt" as const), dt: fc.integer({ min: 0, max: 900 }) }),
    fc.record({ kind: fc.constant("failure" as const), dt: fc.integer({ min: 0, max: 900 }) }),
    fc.record({ kind: fc.constant("observe" as const), dt: fc.integer({ min: 0, max: 3 * DAY }), features }),
  );

  it("gives the same observations for the same records, on every store", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const subject = `prop-${++subjectSeq}`;
        let now = T;
        for (const s of steps) {
          now += s.dt;
          if (s.kind === "login") await Promise.all(all.map((store) => store.recordLogin(subject, login(now, s.features as Features))));
          else if (s.kind === "prompt") await Promise.all(all.map((store) => store.recordPrompt(subject, now)));
          else if (s.kind === "failure") await Promise.all(all.map((store) => store.recordFailure(subject, now)));
          else {
            const [first, ...rest] = await Promise.all(all.map((store) => store.observe(subject, { now, features: s.features as Features })));
            for (const other of rest) expect(other).toEqual(first);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("in-memory store bounds", () => {
  it("holds at most maxSubjects subjects, dropping the least recently used", async () => {
    const store = new MemoryBehaviorStore({ windows, maxSubjects: 3 });
    for (const s of ["a", "b", "c"]) await store.recordLogin(s, login(T));
    await store.observe("a", { now: T, features: HOME }); // a is now recent
    await store.recordLogin("d", login(T));
    expect(store.size).toBe(3);
    expect((await store.observe("b", { now: T, features: HOME })).last).toBeNull();
    expect((await store.observe("a", { now: T, features: HOME })).last).not.toBeNull();
  });
});

describe("redis store keys", () => {
  it("puts a TTL on every key and never the subject id or a feature's value in clear", async () => {
    const store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: server.port }, { windows, prefix: "ttl-test:" });
    try {
      await store.recordLogin("carol@example.com", login(T, { device: "carols-laptop" }));
      await store.recordPrompt("carol@example.com", T);
      await store.recordFailure("carol@example.com", T);
      const keys = await admin.keys("ttl-test:*");
      expect(keys.length).toBe(4);
      for (const key of keys) {
        expect(key).not.toContain("carol");
        const ttl = await admin.ttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(windows.retention);
      }
      const profile = keys.find((k) => k.endsWith(":profile"))!;
      const fields = Object.keys(await admin.hgetall(profile));
      expect(fields.join(" ")).not.toMatch(/carol|laptop|Firefox|64500/);
    } finally {
      await store.close();
    }
  });
});
