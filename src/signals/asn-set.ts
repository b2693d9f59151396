/**
 * ASNs and ASN ranges (`AS64512-AS65534`), as hosting and VPN feeds list them, kept as sorted,
 * merged ranges in two typed arrays: a lookup is a binary search (about 20 steps for a million
 * ranges) and an entry costs 8 bytes, where a Set of numbers costs tens and cannot hold a range
 * without enumerating it.
 */
export class AsnSet {
  private pending: number[] = [];
  private lows = new Uint32Array(0);
  private highs = new Uint32Array(0);

  /** Adds the ASNs from `low` to `high` (both included); call `prepare()` before looking up. */
  add(low: number, high = low): void {
    this.pending.push(low, high);
  }

  /** Sorts and merges what was added since the last call; returns the set. */
  prepare(): this {
    if (this.pending.length === 0) return this;
    const n = this.lows.length + this.pending.length / 2;
    const lows = new Float64Array(n);
    const highs = new Float64Array(n);
    lows.set(this.lows);
    highs.set(this.highs);
    for (let i = 0, j = this.lows.length; i < this.pending.length; i += 2, j++) {
      lows[j] = this.pending[i]!;
      highs[j] = this.pending[i + 1]!;
    }
    this.pending = [];
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => lows[a]! - lows[b]! || highs[a]! - highs[b]!);
    const outLow: number[] = [];
    const outHigh: number[] = [];
    for (const i of order) {
      const last = outHigh.length - 1;
      // Overlapping or touching ranges become one.
      if (last >= 0 && lows[i]! <= outHigh[last]! + 1) outHigh[last] = Math.max(outHigh[last]!, highs[i]!);
      else {
        outLow.push(lows[i]!);
        outHigh.push(highs[i]!);
      }
    }
    this.lows = Uint32Array.from(outLow);
    this.highs = Uint32Array.from(outHigh);
    return this;
  }

  has(asn: number): boolean {
    const { lows, highs } = this;
    // The last range starting at or below the ASN.
    let lo = 0;
    let hi = lows.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (lows[mid]! <= asn) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && asn <= highs[found]!;
  }

  /** The merged ranges, lowest first. */
  ranges(): [number, number][] {
    return Array.from(this.lows, (low, i) => [low, this.highs[i]!]);
  }
}
