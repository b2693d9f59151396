/**
 * Address lists indexed for the Rego side (opa-envoy-plugin), where a list written as an array of
 * CIDRs costs one `net.cidr_contains` per entry on every Check. Indexed, a list groups its networks
 * by family and prefix length, each network's base address a key:
 * `{"ipv4": {"24": {"203.0.113.0": true}, "32": {"203.0.113.77": true}}, "ipv6": {"48": {"2001:db8:bad::": true}}}`.
 * A lookup masks the client address once per prefix length present and looks the base up: its
 * cost follows the lengths present (at most 33 for IPv4, 129 for IPv6), not the entries. Bases are
 * written as OPA writes them (`net.cidr_merge`: lower case, RFC 5952 compression, host bits zero),
 * so the policy's lookup key and the index's agree. IPv6 networks that hold the IPv4-mapped range
 * add `0.0.0.0/0`, as the SDK's address sets match IPv4 addresses against them.
 */
import { normalizeIp, parseCidr } from "./address.js";
import { readIpv4, readIpv6 } from "./address-words.js";

/** Bases by prefix length (decimal text), per family. */
export interface AddressIndex {
  ipv4?: Record<string, Record<string, true>>;
  ipv6?: Record<string, Record<string, true>>;
}

/** The index of a list of addresses and CIDRs; throws naming the first entry that is neither. */
export function indexAddresses(entries: readonly string[]): AddressIndex {
  const index: { ipv4: Record<string, Record<string, true>>; ipv6: Record<string, Record<string, true>> } = { ipv4: {}, ipv6: {} };
  const words = new Uint32Array(4);
  entries.forEach((entry, i) => {
    const cidr = entry.includes("/") ? parseCidr(entry) : null;
    const ip = cidr ? cidr.base : entry.includes("/") ? null : normalizeIp(entry);
    if (!ip) throw new Error(`entry ${i} is not an IP address or CIDR`);
    const v4 = readIpv4(ip);
    if (v4 >= 0) {
      const prefix = cidr ? cidr.prefix : 32;
      (index.ipv4[String(prefix)] ??= {})[ipv4Text(maskV4(v4, prefix))] = true;
      return;
    }
    if (!readIpv6(ip, words)) throw new Error(`entry ${i} is not an IP address or CIDR`);
    const prefix = cidr ? cidr.prefix : 128;
    maskV6(words, prefix);
    (index.ipv6[String(prefix)] ??= {})[ipv6Text(words)] = true;
    if (holdsMapped(words, prefix)) (index.ipv4["0"] ??= {})["0.0.0.0"] = true;
  });
  return {
    ...(Object.keys(index.ipv4).length > 0 && { ipv4: index.ipv4 }),
    ...(Object.keys(index.ipv6).length > 0 && { ipv6: index.ipv6 }),
  };
}

/** The entries an index holds, as CIDRs (`203.0.113.0/24`). */
export function indexedEntries(index: AddressIndex): string[] {
  const out: string[] = [];
  for (const family of [index.ipv4, index.ipv6]) {
    for (const [length, bases] of Object.entries(family ?? {})) for (const base of Object.keys(bases)) out.push(`${base}/${length}`);
  }
  return out;
}

/** What is wrong with an index (a path under it and a message), or null when nothing is. */
export function indexIssue(index: AddressIndex): { path: string[]; message: string } | null {
  const words = new Uint32Array(4);
  for (const family of ["ipv4", "ipv6"] as const) {
    const max = family === "ipv4" ? 32 : 128;
    for (const [length, bases] of Object.entries(index[family] ?? {})) {
      const prefix = Number(length);
      if (!/^(0|[1-9]\d{0,2})$/.test(length) || prefix > max) return { path: [family, length], message: `expected a prefix length from 0 to ${max}` };
      if (typeof bases !== "object" || bases === null || Array.isArray(bases)) return { path: [family, length], message: "expected an object of base addresses" };
      for (const [base, value] of Object.entries(bases)) {
        const path = [family, length, base];
        if (value !== true) return { path, message: "expected true" };
        let canonical: string | null = null;
        if (family === "ipv4") {
          const v4 = readIpv4(base);
          if (v4 >= 0) canonical = ipv4Text(maskV4(v4, prefix));
        } else if (readIpv6(base, words)) {
          maskV6(words, prefix);
          canonical = ipv6Text(words);
        }
        if (canonical !== base) return { path, message: `expected the network's base address as OPA writes it${canonical ? ` (${canonical})` : ""}` };
      }
    }
  }
  return null;
}

function maskV4(address: number, prefix: number): number {
  const host = 32 - prefix;
  return host === 32 ? 0 : address - (address % 2 ** host);
}

function maskV6(words: Uint32Array, prefix: number): void {
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, prefix - w * 32));
    words[w] = keep === 0 ? 0 : keep === 32 ? words[w]! : (words[w]! & ((0xffffffff << (32 - keep)) >>> 0)) >>> 0;
  }
}

/** Whether a masked IPv6 network holds `::ffff:0:0/96`, the IPv4-mapped addresses. */
function holdsMapped(words: Uint32Array, prefix: number): boolean {
  if (prefix > 96) return false;
  const mapped = [0, 0, 0xffff, 0];
  const probe = Uint32Array.from(mapped);
  maskV6(probe, prefix);
  return probe.every((w, i) => w === words[i]);
}

function ipv4Text(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/** RFC 5952 text, as Go (and so OPA) writes it: the first longest run of two or more zero groups as `::`. */
function ipv6Text(words: Uint32Array): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}
