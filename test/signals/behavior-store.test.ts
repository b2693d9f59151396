/**
 * One behaviour-store suite, run against the in-memory store and against a real redis-server
 * started here: both must remember the same things, for the same time, with the same bounds.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { RedisBehaviorStore } from "../../src/signals/behavior/redis.js";
import type { BehaviorStore, LoginEvent } from "../../src/signals/behavior/store.js";
import { startRedis, type RedisServer } from "../support/redis-server.js";

const T = 1_795_824_000; // a midnight, UTC
const windows = { failures: 900, prompts: 600, retention: 30 * 86_400, maxMembers: 3 };
let server: RedisServer;
let admin: Redis;
let subjectSeq = 0;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await admin.connect();
});

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

const stores: [string, () => Promise<BehaviorStore>][] = [
  ["in-memory", async () => new MemoryBehaviorStore({ windows })],
  ["redis", async () => RedisBehaviorStore.connect({ host: "127.0.0.1", port: server.port }, { windows })],
];

function login(time: number, over: Partial<LoginEvent> = {}): LoginEvent {
  return { time, deviceId: "laptop-1", country: "FR", asn: 64500, lat: 48.8566, lon: 2.3522, accuracyKm: 20, anonymized: false, ...over };
}

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
    const obs = await store.observe(subject, { now: T, deviceId: "laptop-1", country: "FR", asn: 64500 });
    expect(obs).toEqual({
      last: null,
      knownDevice: false,
      knownCountry: false,
      knownAsn: false,
      failuresRecent: 0,
      promptsRecent: 0,
      loginHours: new Array(24).fill(0),
    });
  });

  it("answers null for what was not asked", async () => {
    fresh();
    const obs = await store.observe(subject, { now: T, deviceId: null, country: null, asn: null });
    expect([obs.knownDevice, obs.knownCountry, obs.knownAsn]).toEqual([null, null, null]);
  });

  it("remembers the last login, its device, country and ASN", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    const same = await store.observe(subject, { now: T + 60, deviceId: "laptop-1", country: "FR", asn: 64500 });
    expect(same.last).toEqual({ time: T, country: "FR", lat: 48.8566, lon: 2.3522, accuracyKm: 20, anonymized: false });
    expect([same.knownDevice, same.knownCountry, same.knownAsn]).toEqual([true, true, true]);
    const other = await store.observe(subject, { now: T + 60, deviceId: "laptop-2", country: "JP", asn: 64502 });
    expect([other.knownDevice, other.knownCountry, other.knownAsn]).toEqual([false, false, false]);
  });

  it("keeps unknown places of a login unknown", async () => {
    fresh();
    await store.recordLogin(subject, login(T, { country: null, lat: null, lon: null, accuracyKm: null, deviceId: null, asn: null, anonymized: true }));
    const obs = await store.observe(subject, { now: T + 1, deviceId: null, country: "FR", asn: null });
    expect(obs.last).toEqual({ time: T, country: null, lat: null, lon: null, accuracyKm: null, anonymized: true });
    expect(obs.knownCountry).toBe(false);
  });

  it("never lets an older login replace a newer one as the last", async () => {
    fresh();
    await store.recordLogin(subject, login(T + 100, { country: "JP" }));
    await store.recordLogin(subject, login(T, { country: "FR" }));
    const obs = await store.observe(subject, { now: T + 200, deviceId: null, country: "FR", asn: null });
    expect(obs.last?.time).toBe(T + 100);
    expect(obs.last?.country).toBe("JP");
    expect(obs.knownCountry).toBe(true); // the older login still taught the country
  });

  it("counts failed attempts within the failure window only", async () => {
    fresh();
    for (const dt of [0, 100, 200]) await store.recordFailure(subject, T + dt);
    expect((await store.observe(subject, { now: T + 300, deviceId: null, country: null, asn: null })).failuresRecent).toBe(3);
    expect((await store.observe(subject, { now: T + 950, deviceId: null, country: null, asn: null })).failuresRecent).toBe(2);
    expect((await store.observe(subject, { now: T + 1200, deviceId: null, country: null, asn: null })).failuresRecent).toBe(0);
  });

  it("counts prompts within the fatigue window, even two in the same second", async () => {
    fresh();
    await store.recordPrompt(subject, T);
    await store.recordPrompt(subject, T);
    await store.recordPrompt(subject, T + 500);
    expect((await store.observe(subject, { now: T + 550, deviceId: null, country: null, asn: null })).promptsRecent).toBe(3);
    expect((await store.observe(subject, { now: T + 700, deviceId: null, country: null, asn: null })).promptsRecent).toBe(1);
  });

  it("forgets devices, countries and the last login after the retention period", async () => {
    fresh();
    await store.recordLogin(subject, login(T));
    const later = T + windows.retention + 1;
    const obs = await store.observe(subject, { now: later, deviceId: "laptop-1", country: "FR", asn: 64500 });
    expect(obs.last).toBeNull();
    expect([obs.knownDevice, obs.knownCountry, obs.knownAsn]).toEqual([false, false, false]);
    expect(obs.loginHours.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("keeps at most maxMembers devices, dropping the least recently seen", async () => {
    fresh();
    for (let i = 0; i < 5; i++) await store.recordLogin(subject, login(T + i, { deviceId: `d${i}` }));
    const known = [];
    for (let i = 0; i < 5; i++) known.push((await store.observe(subject, { now: T + 10, deviceId: `d${i}`, country: null, asn: null })).knownDevice);
    expect(known).toEqual([false, false, true, true, true]);
  });

  it("counts logins per hour of day", async () => {
    fresh();
    await store.recordLogin(subject, login(T + 9 * 3600));
    await store.recordLogin(subject, login(T + 86_400 + 9 * 3600 + 60));
    await store.recordLogin(subject, login(T + 2 * 86_400 + 14 * 3600));
    const hours = (await store.observe(subject, { now: T + 3 * 86_400, deviceId: null, country: null, asn: null })).loginHours;
    expect(hours[9]).toBe(2);
    expect(hours[14]).toBe(1);
    expect(hours.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("keeps subjects apart", async () => {
    const a = fresh();
    const b = fresh();
    await store.recordLogin(a, login(T));
    const obs = await store.observe(b, { now: T, deviceId: "laptop-1", country: "FR", asn: 64500 });
    expect(obs.last).toBeNull();
    expect(obs.knownDevice).toBe(false);
  });

  it("does not change history when observing", async () => {
    fresh();
    await store.observe(subject, { now: T, deviceId: "laptop-9", country: "JP", asn: 64502 });
    const obs = await store.observe(subject, { now: T + 1, deviceId: "laptop-9", country: "JP", asn: 64502 });
    expect([obs.last, obs.knownDevice, obs.knownCountry, obs.knownAsn]).toEqual([null, false, false, false]);
  });
});

describe("in-memory store bounds", () => {
  it("holds at most maxSubjects subjects, dropping the least recently used", async () => {
    const store = new MemoryBehaviorStore({ windows, maxSubjects: 3 });
    for (const s of ["a", "b", "c"]) await store.recordLogin(s, login(T));
    await store.observe("a", { now: T, deviceId: null, country: null, asn: null }); // a is now recent
    await store.recordLogin("d", login(T));
    expect(store.size).toBe(3);
    expect((await store.observe("b", { now: T, deviceId: null, country: null, asn: null })).last).toBeNull();
    expect((await store.observe("a", { now: T, deviceId: null, country: null, asn: null })).last).not.toBeNull();
  });
});

describe("redis store keys", () => {
  it("puts a TTL on every key and never the subject id in clear", async () => {
    const store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: server.port }, { windows, prefix: "ttl-test:" });
    try {
      await store.recordLogin("carol@example.com", login(T));
      await store.recordPrompt("carol@example.com", T);
      await store.recordFailure("carol@example.com", T);
      const keys = await admin.keys("ttl-test:*");
      expect(keys.length).toBe(7);
      for (const key of keys) {
        expect(key).not.toContain("carol");
        const ttl = await admin.ttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(windows.retention);
      }
    } finally {
      await store.close();
    }
  });
});
