/**
 * A set of addresses and networks, IPv4 and IPv6, built for lists of real size (Tor exits,
 * hosting and VPN ranges, reputation feeds: thousands to millions of entries). Every entry is a
 * range of addresses; the ranges are sorted and merged once, into typed arrays, so a lookup is a
 * binary search — about 20 steps for a million entries — and the memory is a few bytes per entry.
 * Matching follows Node's `BlockList` (the oracle of the property tests): an IPv4 address is also
 * in a set whose IPv6 networks hold its IPv4-mapped form (`::/0` holds every address).
 */
import { normalizeIp, parseCidr } from "../contracts/address.js";
import { readIpv4, readIpv6 } from "../contracts/address-words.js";

const TWO_32 = 2 ** 32;

export class AddressSet {
  /** IPv4 entries as they came: `start * 64 + host bits` (exact in a double), sorted natively. */
  private v4Keys = new Float64Array(16);
  private v4Count = 0;
  /** IPv6 entries as they came: four words of the base and the prefix length, five words each. */
  private v6Rows = new Uint32Array(80);
  private v6Count = 0;
  private added = 0;
  private frozen: Ranges | null = null;

  /** Entries added. */
  get size(): number {
    return this.added;
  }

  /** Adds an address or a CIDR; returns false (adding nothing) when the text is neither. */
  add(entry: string): boolean {
    const ok = this.addPlain(entry) || this.addParsed(entry);
    if (ok) {
      this.added++;
      this.frozen = null;
    }
    return ok;
  }

  /** Sorts and merges the entries now, so that the first lookup does not pay for it; returns the set. */
  prepare(): this {
    this.frozen ??= this.freeze();
    return this;
  }

  /** Whether a canonical address (from `normalizeIp`) is in the set. */
  has(ip: string): boolean {
    const ranges = this.frozen ?? (this.frozen = this.freeze());
    const v4 = readIpv4(ip);
    if (v4 >= 0) return inRanges4(ranges.v4Starts, ranges.v4Ends, v4);
    if (ranges.v6Count === 0 || !readIpv6(ip, PROBE)) return false;
    return inRanges6(ranges, PROBE);
  }

  /** Sorts and merges what was added; done by the first lookup after an addition. */
  private freeze(): Ranges {
    const v6 = mergeV6(this.v6Rows, this.v6Count);
    const keys = this.v4Keys.subarray(0, this.v4Count).slice().sort();
    return { ...mergeV4(keys, mappedRanges(v6)), ...v6 };
  }

  // The common forms (`198.51.100.7`, `198.51.100.0/24`, `2001:db8::/32`) read without strings
  // made on the way; a million-line feed loads in about a second.
  private addPlain(entry: string): boolean {
    const slash = entry.indexOf("/");
    const end = slash < 0 ? entry.length : slash;
    let prefix: number;
    if (slash < 0) prefix = -1;
    else {
      prefix = readPrefix(entry, slash + 1);
      if (prefix < 0) return false;
    }
    const v4 = readIpv4(entry, 0, end);
    if (v4 >= 0) {
      if (prefix > 32) return false;
      this.push4(v4, prefix < 0 ? 32 : prefix);
      return true;
    }
    this.reserve6();
    const at = this.v6Count * 5;
    if (!readIpv6(entry, this.v6Rows, at, 0, end) || prefix > 128) return false;
    this.push6(at, prefix < 0 ? 128 : prefix);
    return true;
  }

  // Everything else the contract accepts: spaces, brackets, ports, IPv4-mapped IPv6.
  private addParsed(entry: string): boolean {
    const cidr = entry.includes("/") ? parseCidr(entry) : null;
    const ip = cidr ? cidr.base : entry.includes("/") ? null : normalizeIp(entry);
    if (!ip) return false;
    const prefix = cidr ? cidr.prefix : -1;
    const v4 = readIpv4(ip);
    if (v4 >= 0) {
      this.push4(v4, prefix < 0 ? 32 : prefix);
      return true;
    }
    this.reserve6();
    const at = this.v6Count * 5;
    if (!readIpv6(ip, this.v6Rows, at)) return false;
    this.push6(at, prefix < 0 ? 128 : prefix);
    return true;
  }

  private push4(address: number, prefix: number): void {
    if (this.v4Count === this.v4Keys.length) this.v4Keys = grow(this.v4Keys, new Float64Array(this.v4Keys.length * 2));
    const host = 32 - prefix;
    const start = host === 32 ? 0 : address - (address % 2 ** host);
    this.v4Keys[this.v4Count++] = start * 64 + host;
  }

  /** Keeps the row read at `at`: its base with the host bits cleared, so rows sort by where they start. */
  private push6(at: number, prefix: number): void {
    for (let w = 0; w < 4; w++) this.v6Rows[at + w] = (this.v6Rows[at + w]! & wordMask(prefix, w)) >>> 0;
    this.v6Rows[at + 4] = prefix;
    this.v6Count++;
  }

  private reserve6(): void {
    if ((this.v6Count + 1) * 5 > this.v6Rows.length) this.v6Rows = grow(this.v6Rows, new Uint32Array(this.v6Rows.length * 2));
  }
}

interface Ranges {
  readonly v4Starts: Uint32Array;
  readonly v4Ends: Uint32Array;
  /** Four words a range, most significant first. */
  readonly v6Starts: Uint32Array;
  readonly v6Ends: Uint32Array;
  readonly v6Count: number;
}

const PROBE = new Uint32Array(4);

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The network bits of word `w` (0–3) under a prefix length. */
function wordMask(prefix: number, w: number): number {
  const keep = Math.max(0, Math.min(32, prefix - w * 32));
  return keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
}

/** Digits of a prefix length (`/024` reads as 24, as `parseCidr` reads it); -1 otherwise. */
function readPrefix(text: string, from: number): number {
  const length = text.length - from;
  if (length < 1 || length > 3) return -1;
  let value = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** Sorted keys to merged ranges, with the IPv4 ranges that IPv6 networks hold through their mapped forms. */
function mergeV4(keys: Float64Array, mapped: readonly [number, number][]): Pick<Ranges, "v4Starts" | "v4Ends"> {
  const starts = new Uint32Array(keys.length + mapped.length);
  const ends = new Uint32Array(keys.length + mapped.length);
  let n = 0;
  let m = 0;
  const take = (start: number, end: number) => {
    // Overlapping or adjacent: one range.
    if (n > 0 && start <= ends[n - 1]! + 1) {
      if (end > ends[n - 1]!) ends[n - 1] = end;
    } else {
      starts[n] = start;
      ends[n++] = end;
    }
  };
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const host = key % 64;
    const start = (key - host) / 64;
    while (m < mapped.length && mapped[m]![0] <= start) take(mapped[m]![0], mapped[m++]![1]);
    take(start, start + 2 ** host - 1);
  }
  while (m < mapped.length) take(mapped[m]![0], mapped[m++]![1]);
  return { v4Starts: starts.slice(0, n), v4Ends: ends.slice(0, n) };
}

function mergeV6(rows: Uint32Array, count: number): Pick<Ranges, "v6Starts" | "v6Ends" | "v6Count"> {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => {
    for (let w = 0; w < 4; w++) {
      const d = rows[a * 5 + w]! - rows[b * 5 + w]!;
      if (d !== 0) return d;
    }
    return rows[a * 5 + 4]! - rows[b * 5 + 4]!;
  });
  const starts = new Uint32Array(count * 4);
  const ends = new Uint32Array(count * 4);
  const start = new Uint32Array(4);
  const end = new Uint32Array(4);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const row = order[i]! * 5;
    const prefix = rows[row + 4]!;
    for (let w = 0; w < 4; w++) {
      start[w] = rows[row + w]!;
      end[w] = (start[w]! | ~wordMask(prefix, w)) >>> 0;
    }
    if (n > 0 && compare(start, 0, ends, (n - 1) * 4) <= 0) {
      if (compare(end, 0, ends, (n - 1) * 4) > 0) ends.set(end, (n - 1) * 4);
    } else {
      starts.set(start, n * 4);
      ends.set(end, n * 4);
      n++;
    }
  }
  return { v6Starts: starts.slice(0, n * 4), v6Ends: ends.slice(0, n * 4), v6Count: n };
}

/** The IPv4 ranges whose mapped forms (`::ffff:a.b.c.d`) lie in the IPv6 ranges, in order. */
function mappedRanges(v6: Pick<Ranges, "v6Starts" | "v6Ends" | "v6Count">): [number, number][] {
  const low = Uint32Array.of(0, 0, 0xffff, 0);
  const high = Uint32Array.of(0, 0, 0xffff, 0xffffffff);
  const out: [number, number][] = [];
  for (let i = 0; i < v6.v6Count; i++) {
    if (compare(v6.v6Starts, i * 4, high, 0) > 0 || compare(v6.v6Ends, i * 4, low, 0) < 0) continue;
    const from = compare(v6.v6Starts, i * 4, low, 0) < 0 ? 0 : v6.v6Starts[i * 4 + 3]!;
    const to = compare(v6.v6Ends, i * 4, high, 0) > 0 ? TWO_32 - 1 : v6.v6Ends[i * 4 + 3]!;
    out.push([from, to]);
  }
  return out;
}

function compare(a: Uint32Array, at: number, b: Uint32Array, bt: number): number {
  for (let w = 0; w < 4; w++) {
    const d = a[at + w]! - b[bt + w]!;
    if (d !== 0) return d;
  }
  return 0;
}

function inRanges4(starts: Uint32Array, ends: Uint32Array, x: number): boolean {
  // The last range starting at or before x.
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && ends[found]! >= x;
}

function inRanges6(ranges: Ranges, x: Uint32Array): boolean {
  let lo = 0;
  let hi = ranges.v6Count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(ranges.v6Starts, mid * 4, x, 0) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && compare(ranges.v6Ends, found * 4, x, 0) >= 0;
}
