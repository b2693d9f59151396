/**
 * The Redis behaviour store (ioredis), for fleets: every instance sees the same history. A
 * decision costs exactly one round trip (one EVALSHA of a read-only script); each record is one
 * atomic script. Keys carry a TTL and name the subject only by a hash, so no user id sits in
 * Redis in clear. Failures and timeouts become `BehaviorStoreError`, never a hung decision.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import { BehaviorStoreError } from "../../errors.js";
import { ioredis } from "../../lazy.js";
import { OBSERVE, RECORD_EVENT, RECORD_LOGIN } from "./redis-scripts.js";
import {
  DEFAULT_WINDOWS,
  hourOf,
  type BehaviorStore,
  type BehaviorWindows,
  type LastLogin,
  type LoginEvent,
  type Observation,
  type Probe,
} from "./store.js";

interface ScriptCommands {
  stepupObserve(...args: (string | number)[]): Promise<unknown[]>;
  stepupRecordLogin(...args: (string | number)[]): Promise<number>;
  stepupRecordEvent(...args: (string | number)[]): Promise<number>;
}

type ScriptedRedis = Redis & ScriptCommands;

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
  private readonly redis: ScriptedRedis;
  private readonly windows: BehaviorWindows;
  private readonly prefix: string;

  /** Wraps a client you manage; prefer `connect`, which sets fail-fast options. */
  constructor(redis: Redis, options: RedisStoreOptions = {}) {
    this.windows = { ...DEFAULT_WINDOWS, ...options.windows };
    this.prefix = options.prefix ?? "stepup:";
    // Connection errors surface per call as BehaviorStoreError; ioredis reconnects in the background.
    redis.on("error", () => {});
    redis.defineCommand("stepupObserve", { numberOfKeys: 7, lua: OBSERVE, readOnly: true });
    redis.defineCommand("stepupRecordLogin", { numberOfKeys: 5, lua: RECORD_LOGIN });
    redis.defineCommand("stepupRecordEvent", { numberOfKeys: 1, lua: RECORD_EVENT });
    this.redis = redis as ScriptedRedis;
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
      await Promise.all([OBSERVE, RECORD_LOGIN, RECORD_EVENT].map((lua) => redis.script("LOAD", lua)));
    } catch (err) {
      redis.disconnect();
      throw new BehaviorStoreError(`cannot connect to Redis: ${(err as Error).message}`, { cause: err });
    }
    return new RedisBehaviorStore(redis, storeOptions);
  }

  /** The underlying client (for health checks). */
  get client(): Redis {
    return this.redis;
  }

  async observe(subject: string, probe: Probe): Promise<Observation> {
    const k = this.keys(subject);
    const since = probe.now - this.windows.retention;
    const reply = await this.call(() =>
      this.redis.stepupObserve(
        k.last, k.devices, k.countries, k.asns, k.failures, k.prompts, k.hours,
        probe.deviceId ?? "", probe.country ?? "", probe.asn === null ? "" : String(probe.asn),
        since, probe.now - this.windows.failures, probe.now - this.windows.prompts,
      ),
    );
    const [last, device, country, asn, failures, prompts, hours] = reply as [(string | null)[], number, number, number, number, number, string[]];
    return {
      last: lastLogin(last, since),
      knownDevice: known(device),
      knownCountry: known(country),
      knownAsn: known(asn),
      failuresRecent: Number(failures),
      promptsRecent: Number(prompts),
      loginHours: loginHours(hours, since),
    };
  }

  async recordLogin(subject: string, login: LoginEvent): Promise<void> {
    const k = this.keys(subject);
    const w = this.windows;
    await this.call(() =>
      this.redis.stepupRecordLogin(
        k.last, k.devices, k.countries, k.asns, k.hours,
        login.time, login.country ?? "", text(login.lat), text(login.lon), text(login.accuracyKm), login.anonymized ? 1 : 0,
        login.deviceId ?? "", login.asn === null ? "" : String(login.asn), hourOf(login.time), w.retention, w.maxMembers, login.time - w.retention,
      ),
    );
  }

  async recordPrompt(subject: string, time: number): Promise<void> {
    await this.event(this.keys(subject).prompts, time, this.windows.prompts);
  }

  async recordFailure(subject: string, time: number): Promise<void> {
    await this.event(this.keys(subject).failures, time, this.windows.failures);
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
      devices: `${base}devices`,
      countries: `${base}countries`,
      asns: `${base}asns`,
      failures: `${base}failures`,
      prompts: `${base}prompts`,
      hours: `${base}hours`,
    };
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new BehaviorStoreError(`behaviour store: ${(err as Error).message}`, { cause: err });
    }
  }
}

function known(flag: number): boolean | null {
  return flag < 0 ? null : flag === 1;
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

function loginHours(flat: string[], since: number): number[] {
  const hours = new Array<number>(24).fill(0);
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  if ((num(fields.get("at")) ?? -Infinity) < since) return hours;
  for (let h = 0; h < 24; h++) hours[h] = num(fields.get(String(h))) ?? 0;
  return hours;
}
