/**
 * The in-memory behaviour store: the embedded default for a single instance. Bounded: at most
 * `maxSubjects` subjects (least recently used go first), at most `maxMembers` values per feature,
 * and every entry expires by the store's windows, measured on the times given. It answers exactly
 * as the Redis store does (profile.ts holds the arithmetic both use).
 */
import {
  FEATURES,
  HISTORY,
  bumped,
  contextKey,
  decayTable,
  decayed,
  evictee,
  expired,
  isValueOf,
  totalField,
  valueField,
  type Entry,
} from "./profile.js";
import { DEFAULT_WINDOWS, type BehaviorStore, type FeatureCounts, type BehaviorWindows, type LastLogin, type LoginEvent, type Observation, type Probe } from "./store.js";

interface SubjectState {
  last: LastLogin | null;
  profile: Map<string, Entry>;
  context: string;
  contextAt: number;
  failures: number[];
  prompts: number[];
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
  private readonly table: readonly number[];

  constructor(options: MemoryStoreOptions = {}) {
    this.windows = { ...DEFAULT_WINDOWS, ...options.windows };
    this.maxSubjects = options.maxSubjects ?? 100_000;
    this.table = decayTable(this.windows);
  }

  /** Subjects held now (for tests and health checks). */
  get size(): number {
    return this.subjects.size;
  }

  async observe(subject: string, probe: Probe): Promise<Observation> {
    const s = this.live(subject, probe.now);
    const since = probe.now - this.windows.retention;
    const read = (field: string) => decayed(s?.profile.get(field), probe.now, this.table);
    const profile = {} as Record<string, { seen: number; total: number }>;
    for (const feature of FEATURES) {
      const value = probe.features[feature];
      profile[feature] = { seen: value === null ? 0 : read(valueField(feature, value)), total: read(totalField(feature)) };
    }
    return {
      last: s?.last && s.last.time >= since ? s.last : null,
      profile: profile as FeatureCounts,
      history: read(HISTORY),
      failuresRecent: s ? count(s.failures, probe.now - this.windows.failures) : 0,
      promptsRecent: s ? count(s.prompts, probe.now - this.windows.prompts) : 0,
    };
  }

  async recordLogin(subject: string, login: LoginEvent): Promise<void> {
    const s = this.state(subject, login.time);
    const { time, country, lat, lon, accuracyKm, anonymized } = login;
    if (!s.last || s.last.time <= time) s.last = { time, country, lat, lon, accuracyKm, anonymized };
    const context = contextKey(login.features);
    if (context === s.context && time >= s.contextAt && time - s.contextAt < this.windows.relearn) return;
    s.context = context;
    s.contextAt = time;
    const { profile } = s;
    for (const [field, entry] of profile) if (expired(entry, time, this.table)) profile.delete(field);
    const bump = (field: string) => profile.set(field, bumped(profile.get(field), time, this.table));
    bump(HISTORY);
    for (const feature of FEATURES) {
      const value = login.features[feature];
      if (value === null) continue;
      bump(valueField(feature, value));
      bump(totalField(feature));
      for (;;) {
        const values = [...profile].filter(([field]) => isValueOf(field, feature));
        if (values.length <= this.windows.maxMembers) break;
        profile.delete(evictee(values, time, this.table)!);
      }
    }
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
      s = { last: null, profile: new Map(), context: "", contextAt: -Infinity, failures: [], prompts: [], touched: now };
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
