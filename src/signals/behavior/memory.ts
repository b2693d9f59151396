/**
 * The in-memory behaviour store: the embedded default for a single instance. Bounded: at most
 * `maxSubjects` subjects (least recently used go first), at most `maxMembers` devices, countries
 * and ASNs each, and every entry expires by the store's windows, measured on the times given.
 */
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

interface SubjectState {
  last: LastLogin | null;
  devices: Map<string, number>;
  countries: Map<string, number>;
  asns: Map<string, number>;
  failures: number[];
  prompts: number[];
  hours: number[];
  hoursAt: number;
  touched: number;
}

export interface MemoryStoreOptions {
  readonly windows?: Partial<BehaviorWindows>;
  /** At most this many subjects; 100 000 by default. */
  readonly maxSubjects?: number;
}

// Failures and prompts kept per subject beyond any sane window's worth.
const MAX_EVENTS = 1_000;

export class MemoryBehaviorStore implements BehaviorStore {
  private readonly subjects = new Map<string, SubjectState>();
  private readonly windows: BehaviorWindows;
  private readonly maxSubjects: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.windows = { ...DEFAULT_WINDOWS, ...options.windows };
    this.maxSubjects = options.maxSubjects ?? 100_000;
  }

  /** Subjects held now (for tests and health checks). */
  get size(): number {
    return this.subjects.size;
  }

  async observe(subject: string, probe: Probe): Promise<Observation> {
    const s = this.live(subject, probe.now);
    const since = probe.now - this.windows.retention;
    const known = (map: Map<string, number> | undefined, key: string | number | null) =>
      key === null ? null : (map?.get(String(key)) ?? -Infinity) >= since;
    return {
      last: s?.last && s.last.time >= since ? s.last : null,
      knownDevice: known(s?.devices, probe.deviceId),
      knownCountry: known(s?.countries, probe.country),
      knownAsn: known(s?.asns, probe.asn),
      failuresRecent: s ? count(s.failures, probe.now - this.windows.failures) : 0,
      promptsRecent: s ? count(s.prompts, probe.now - this.windows.prompts) : 0,
      loginHours: s && s.hoursAt >= since ? [...s.hours] : new Array<number>(24).fill(0),
    };
  }

  async recordLogin(subject: string, login: LoginEvent): Promise<void> {
    const s = this.state(subject, login.time);
    if (!s.last || s.last.time <= login.time) {
      const { time, country, lat, lon, accuracyKm, anonymized } = login;
      s.last = { time, country, lat, lon, accuracyKm, anonymized };
    }
    remember(s.devices, login.deviceId, login.time, this.windows.maxMembers);
    remember(s.countries, login.country, login.time, this.windows.maxMembers);
    remember(s.asns, login.asn === null ? null : String(login.asn), login.time, this.windows.maxMembers);
    if (s.hoursAt < login.time - this.windows.retention) s.hours.fill(0);
    s.hours[hourOf(login.time)]! += 1;
    s.hoursAt = Math.max(s.hoursAt, login.time);
  }

  async recordPrompt(subject: string, time: number): Promise<void> {
    push(this.state(subject, time).prompts, time, time - this.windows.prompts);
  }

  async recordFailure(subject: string, time: number): Promise<void> {
    push(this.state(subject, time).failures, time, time - this.windows.failures);
  }

  async close(): Promise<void> {
    this.subjects.clear();
  }

  /** The subject's state if it has not expired; refreshes its place in the LRU order. */
  private live(subject: string, now: number): SubjectState | undefined {
    const s = this.subjects.get(subject);
    if (!s) return undefined;
    if (s.touched < now - this.windows.retention) {
      this.subjects.delete(subject);
      return undefined;
    }
    this.subjects.delete(subject);
    this.subjects.set(subject, s);
    return s;
  }

  private state(subject: string, now: number): SubjectState {
    let s = this.live(subject, now);
    if (!s) {
      s = { last: null, devices: new Map(), countries: new Map(), asns: new Map(), failures: [], prompts: [], hours: new Array<number>(24).fill(0), hoursAt: -Infinity, touched: now };
      this.subjects.set(subject, s);
      while (this.subjects.size > this.maxSubjects) this.subjects.delete(this.subjects.keys().next().value as string);
    }
    s.touched = Math.max(s.touched, now);
    return s;
  }
}

function count(times: readonly number[], since: number): number {
  let n = 0;
  for (const t of times) if (t >= since) n++;
  return n;
}

function push(times: number[], time: number, since: number): void {
  times.push(time);
  let drop = 0;
  while (drop < times.length && (times[drop]! < since || times.length - drop > MAX_EVENTS)) drop++;
  times.splice(0, drop);
}

function remember(map: Map<string, number>, key: string | null, time: number, max: number): void {
  if (key === null) return;
  map.set(key, Math.max(map.get(key) ?? -Infinity, time));
  if (map.size <= max) return;
  const oldest = [...map.entries()].sort((a, b) => a[1] - b[1]).slice(0, map.size - max);
  for (const [k] of oldest) map.delete(k);
}
