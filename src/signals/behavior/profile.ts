/**
 * A subject's profile: for each feature, how often each value was seen in proven authentications,
 * decayed with age. The memory and Redis stores keep the same entries and update them with the
 * same integer arithmetic (the Redis scripts are generated from the constants here), so both
 * answer exactly alike.
 *
 * An entry is a count in thousandths and the time it was last bumped. Reading it at a later time
 * multiplies it by the decay of the whole days in between, from a table of integer factors; at
 * retention it is gone. Values are kept as a short hash, never in clear.
 */
import { createHash } from "node:crypto";
import { Feature } from "../../contracts/input.js";
import type { BehaviorWindows, Features } from "./store.js";

export const FEATURES: readonly Feature[] = Feature.options;

/** One proven authentication counts this much. */
export const UNIT = 1_000;
/** The decay factors' scale: a factor of SCALE keeps a count whole. */
export const SCALE = 1_000_000;
const DAY = 86_400;

/** A profile entry: a decayed count and when it was last bumped. */
export interface Entry {
  readonly count: number;
  readonly at: number;
}

/** The field naming the count of every proven authentication (the profile's history). */
export const HISTORY = "history";

/** The field of one feature's value. */
export function valueField(feature: Feature, value: string): string {
  return `${feature}:${createHash("sha256").update(value).digest("base64url").slice(0, 16)}`;
}

/** The field of one feature's total. */
export function totalField(feature: Feature): string {
  return `${feature}:*`;
}

/** Whether a field is one of a feature's values (not its total). */
export function isValueOf(field: string, feature: Feature): boolean {
  return field.startsWith(`${feature}:`) && field !== totalField(feature);
}

/** The features as one key, so that the same context learned again soon counts once. */
export function contextKey(features: Features): string {
  const text = FEATURES.map((f) => features[f] ?? "").join("\u001f");
  return createHash("sha256").update(text).digest("base64url").slice(0, 22);
}

/** Integer decay factors per whole day elapsed, from 0 up to the retention (exclusive). */
export function decayTable(windows: Pick<BehaviorWindows, "halfLifeDays" | "retention">): readonly number[] {
  const days = Math.max(1, Math.ceil(windows.retention / DAY));
  return Array.from({ length: days }, (_, d) => Math.round(SCALE * 2 ** (-d / windows.halfLifeDays)));
}

/** An entry's count at `now`: decayed by the whole days since it was bumped, 0 once retention has passed. */
export function decayed(entry: Entry | undefined, now: number, table: readonly number[]): number {
  if (!entry) return 0;
  const days = Math.max(0, Math.floor((now - entry.at) / DAY));
  if (days >= table.length) return 0;
  return Math.floor((entry.count * table[days]!) / SCALE);
}

/** Whether an entry is past retention at `now`. */
export function expired(entry: Entry, now: number, table: readonly number[]): boolean {
  return Math.floor((now - entry.at) / DAY) >= table.length;
}

/** An entry bumped by one authentication at `time` (an earlier time than its own keeps its time). */
export function bumped(entry: Entry | undefined, time: number, table: readonly number[]): Entry {
  return { count: decayed(entry, time, table) + UNIT, at: Math.max(entry?.at ?? time, time) };
}

/**
 * Which of a feature's entries goes when there are too many: the least count at `now`, then the
 * oldest, then the first field in code-unit order.
 */
export function evictee(entries: Iterable<[string, Entry]>, now: number, table: readonly number[]): string | undefined {
  let worst: { field: string; count: number; at: number } | undefined;
  for (const [field, entry] of entries) {
    const count = decayed(entry, now, table);
    if (!worst || count < worst.count || (count === worst.count && (entry.at < worst.at || (entry.at === worst.at && field < worst.field)))) {
      worst = { field, count, at: entry.at };
    }
  }
  return worst?.field;
}

/** An entry as both stores write it. */
export function encode(entry: Entry): string {
  return `${entry.count}:${entry.at}`;
}

export function decode(text: string | null | undefined): Entry | undefined {
  if (!text) return undefined;
  const colon = text.indexOf(":");
  const count = Number(text.slice(0, colon));
  const at = Number(text.slice(colon + 1));
  return Number.isFinite(count) && Number.isFinite(at) ? { count, at } : undefined;
}
