/**
 * The Redis behaviour store (ioredis), for fleets: every instance sees the same history. A
 * decision costs exactly one round trip (one EVALSHA of a read-only script); each record is one
 * atomic script. Keys carry a TTL and name the subject, and the profile its values, only by a
 * hash, so no user id, device id or address sits in Redis in clear. Failures and timeouts become
 * `BehaviorStoreError` (`StateWriteError` for a write, keeping the record), never a hung decision.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { BehaviorStoreError, StateWriteError } from "../../errors.js";
import type { BehaviorRecord } from "./records.js";
import { ioredis } from "../../lazy.js";
import { FEATURES, HISTORY, contextKey, decayTable, decayed, decode, totalField, valueField } from "./profile.js";
import { OBSERVE, RECORD_EVENT, recordLoginScript } from "./redis-scripts.js";
import { DEFAULT_WINDOWS, type BehaviorStore, type FeatureCounts, type BehaviorWindows, type LastLogin, type LoginEvent, type Observation, type Probe } from "./store.js";

interface ScriptCommands {
  stepupObserve(...args: (string | number)[]): Promise<unknown[]>;
  stepupRecordLogin(...args: (string | number)[]): Promise<number>;
  stepupRecordEvent(...args: (string | number)[]): Promise<number>;
}

/** A single Redis or a Redis Cluster client: every key of a subject is in one hash slot. */
type Client = Redis | Cluster;
type ScriptedClient = Client & ScriptCommands;

export interface RedisStoreOptions {
  readonly windows?: Partial<BehaviorWindows>;
  /** Key prefix; `stepup:` by default. */
  readonly prefix?: string;
}

const MAX_EVENTS = 1_000;

/** Client settings that fail fast: a decision must not wait on a Redis that is not there. */
export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
  connectTimeout: 2_000,
  lazyConnect: true,
};

export class RedisBehaviorStore implements BehaviorStore {
  private readonly redis: ScriptedClient;
  private readonly windows: BehaviorWindows;
  private readonly prefix: string;
  private readonly table: readonly number[];

  /** Wraps a client you manage (a Redis or a Cluster); prefer `connect`, which sets fail-fast options. */
  constructor(redis: Client, options: RedisStoreOptions = {}) {
    this.windows = { ...DEFAULT_WINDOWS, ...options.windows };
    this.prefix = options.prefix ?? "stepup:";
    this.table = decayTable(this.windows);
    // Connection errors surface per call as BehaviorStoreError; ioredis reconnects in the background.
    redis.on("error", () => {});
    redis.defineCommand("stepupObserve", { numberOfKeys: 4, lua: OBSERVE, readOnly: true });
    redis.defineCommand("stepupRecordLogin", { numberOfKeys: 2, lua: recordLoginScript(this.table) });
    redis.defineCommand("stepupRecordEvent", { numberOfKeys: 1, lua: RECORD_EVENT });
    this.redis = redis as ScriptedClient;
  }

  /**
   * Connects with fail-fast settings and loads the scripts, so the first decision is already a
   * single EVALSHA.
   * @example
   * const store = await RedisBehaviorStore.connect({ host: "127.0.0.1", port: 6379 });
   */
  static async connect(options: RedisOptions, storeOptions?: RedisStoreOptions): Promise<RedisBehaviorStore> {
    const redis = new (ioredis().Redis)({ ...FAIL_FAST, ...options });
    try {
      await redis.connect();
      const table = decayTable({ ...DEFAULT_WINDOWS, ...storeOptions?.windows });
      await Promise.all([OBSERVE, recordLoginScript(table), RECORD_EVENT].map((lua) => redis.script("LOAD", lua)));
    } catch (err) {
      redis.disconnect();
      throw new BehaviorStoreError(`cannot connect to Redis: ${(err as Error).message}`, { cause: err });
    }
    return new RedisBehaviorStore(redis, storeOptions);
  }

  /**
   * Connects to a Redis Cluster with fail-fast settings. The scripts load on each node the first
   * time a subject's slot lives there.
   * @example
   * const store = await RedisBehaviorStore.connectCluster([{ host: "127.0.0.1", port: 7000 }]);
   */
  static async connectCluster(nodes: { host: string; port: number }[], options: RedisOptions = {}, storeOptions?: RedisStoreOptions): Promise<RedisBehaviorStore> {
    const { enableOfflineQueue, lazyConnect, ...redisOptions } = { ...FAIL_FAST, ...options };
    const cluster = new (ioredis().Cluster)(nodes, { enableOfflineQueue, lazyConnect, redisOptions });
    try {
      await cluster.connect();
    } catch (err) {
      cluster.disconnect();
      throw new BehaviorStoreError(`cannot connect to the Redis Cluster: ${(err as Error).message}`, { cause: err });
    }
    return new RedisBehaviorStore(cluster, storeOptions);
  }

  /** The underlying client (for health checks). */
  get client(): Client {
    return this.redis;
  }

  async observe(subject: string, probe: Probe): Promise<Observation> {
    const k = this.keys(subject);
    const fields = [HISTORY];
    for (const feature of FEATURES) {
      const value = probe.features[feature];
      fields.push(value === null ? `${feature}:-` : valueField(feature, value), totalField(feature));
    }
    const reply = await this.call(() =>
      this.redis.stepupObserve(k.last, k.profile, k.failures, k.prompts, probe.now - this.windows.failures, probe.now - this.windows.prompts, ...fields),
    );
    const [last, entries, failures, prompts] = reply as [(string | null)[], (string | null)[], number, number];
    const read = (i: number) => decayed(decode(entries[i]), probe.now, this.table);
    const profile = {} as Record<string, { seen: number; total: number }>;
    FEATURES.forEach((feature, i) => {
      profile[feature] = { seen: probe.features[feature] === null ? 0 : read(1 + 2 * i), total: read(2 + 2 * i) };
    });
    return {
      last: lastLogin(last, probe.now - this.windows.retention),
      profile: profile as FeatureCounts,
      history: read(0),
      failuresRecent: Number(failures),
      promptsRecent: Number(prompts),
    };
  }

  async recordLogin(subject: string, login: LoginEvent): Promise<void> {
    const k = this.keys(subject);
    const w = this.windows;
    const features: string[] = [];
    for (const feature of FEATURES) {
      const value = login.features[feature];
      if (value !== null) features.push(feature, valueField(feature, value), totalField(feature));
    }
    await this.write({ kind: "login", subject, login }, () =>
      this.redis.stepupRecordLogin(
        k.last, k.profile,
        login.time, login.country ?? "", text(login.lat), text(login.lon), text(login.accuracyKm), login.anonymized ? 1 : 0,
        w.retention, w.maxMembers, w.relearn, contextKey(login.features), HISTORY, ...features,
      ),
    );
  }

  async recordPrompt(subject: string, time: number): Promise<void> {
    await this.write({ kind: "prompt", subject, time }, () => this.event(this.keys(subject).prompts, time, this.windows.prompts));
  }

  async recordFailure(subject: string, time: number): Promise<void> {
    await this.write({ kind: "failure", subject, time }, () => this.event(this.keys(subject).failures, time, this.windows.failures));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async event(key: string, time: number, window: number): Promise<void> {
    await this.call(() => this.redis.stepupRecordEvent(key, time, `${time}:${randomUUID()}`, time - window, window, MAX_EVENTS));
  }

  private keys(subject: string) {
    const tag = createHash("sha256").update(subject).digest("base64url").slice(0, 22);
    const base = `${this.prefix}{${tag}}:`;
    return {
      last: `${base}last`,
      profile: `${base}profile`,
      failures: `${base}failures`,
      prompts: `${base}prompts`,
    };
  }

  /** A record that fails becomes a `StateWriteError` holding the write, to be retried. */
  private async write(record: BehaviorRecord, run: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(run);
    } catch (err) {
      throw new StateWriteError(record, { cause: err });
    }
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new BehaviorStoreError(`behaviour store: ${(err as Error).message}`, { cause: err });
    }
  }
}

function text(value: number | null): string {
  return value === null ? "" : String(value);
}

function num(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function lastLogin(fields: (string | null)[], since: number): LastLogin | null {
  const [time, country, lat, lon, acc, anon] = fields;
  const t = num(time);
  if (t === null || t < since) return null;
  return { time: t, country: country || null, lat: num(lat), lon: num(lon), accuracyKm: num(acc), anonymized: anon === "1" };
}
