/**
 * The address set against Node's BlockList, the oracle: generated lists of exact addresses and
 * networks of both families, in the forms feeds write them, and generated addresses near their
 * edges. And the fast text readers against the contract's `normalizeIp`: whatever they accept,
 * the contract reads as the same address.
 */
import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { familyOf, normalizeIp, parseCidr } from "../../src/contracts/address.js";
import { AddressSet } from "../../src/signals/ip.js";
import { readIpv4, readIpv6 } from "../../src/contracts/address-words.js";
import { address, dotted, entry } from "../support/addresses.js";

/** The oracle: BlockList fed the entries the contract reads. */
function oracle(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const cidr = e.includes("/") ? parseCidr(e) : null;
    const ip = e.includes("/") ? null : normalizeIp(e);
    if (cidr) list.addSubnet(cidr.base, cidr.prefix, cidr.family);
    else if (ip) list.addAddress(ip, familyOf(ip));
  }
  return list;
}

describe("AddressSet against BlockList", () => {
  it("agrees on generated lists and addresses", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.array(address, { minLength: 1, maxLength: 40 }), (entries, probes) => {
        const set = new AddressSet();
        for (const e of entries) expect(set.add(e), e).toBe(isAccepted(e));
        const list = oracle(entries);
        for (const probe of [...probes, ...entries.map((e) => e.split("/")[0]!)]) {
          const ip = normalizeIp(probe);
          if (!ip) continue;
          expect(set.has(ip), `${ip} in ${JSON.stringify(entries)}`).toBe(list.check(ip, familyOf(ip)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it("agrees after entries are added between lookups", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, address), { minLength: 1, maxLength: 30 }), (steps) => {
        const set = new AddressSet();
        const added: string[] = [];
        for (const [e, probe] of steps) {
          set.add(e);
          added.push(e);
          const ip = normalizeIp(probe);
          if (ip) expect(set.has(ip)).toBe(oracle(added).check(ip, familyOf(ip)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("holds the edges of networks and nothing past them", () => {
    const set = new AddressSet();
    for (const e of ["198.51.100.0/24", "203.0.113.7", "2001:db8:c0::/48", "2001:db8::7", "0.0.0.0/32", "255.255.255.255"]) set.add(e);
    for (const ip of ["198.51.100.0", "198.51.100.255", "203.0.113.7", "2001:db8:c0::", "2001:db8:c0:ffff:ffff:ffff:ffff:ffff", "0.0.0.0", "255.255.255.255"]) {
      expect(set.has(ip), ip).toBe(true);
    }
    for (const ip of ["198.51.99.255", "198.51.101.0", "203.0.113.6", "203.0.113.8", "2001:db8:bf:ffff:ffff:ffff:ffff:ffff", "2001:db8:c1::", "0.0.0.1", "255.255.255.254"]) {
      expect(set.has(ip), ip).toBe(false);
    }
    expect(set.size).toBe(6);
  });
});

describe("fast address readers", () => {
  it("read only what normalizeIp reads, as the same address", () => {
    const mutated = fc.tuple(address, fc.nat(), fc.constantFrom("", ":", ".", "::", "0", "f", "g", " ", "%1", "00000", "1.2.3.4"), fc.boolean()).map(([a, at, piece, cut]) => {
      const i = at % (a.length + 1);
      return cut ? a.slice(0, i) + piece + a.slice(i + 1) : a.slice(0, i) + piece + a.slice(i);
    });
    fc.assert(
      fc.property(fc.oneof(address, mutated, fc.string()), (text) => {
        const canonical = normalizeIp(text);
        const four = readIpv4(text);
        if (four >= 0) expect(canonical).toBe(dotted([four >>> 24, (four >>> 16) & 255, (four >>> 8) & 255, four & 255]));
        const words = new Uint32Array(4);
        if (readIpv6(text, words)) {
          expect(canonical && isIP(canonical)).toBe(6);
          const back = new Uint32Array(4);
          expect(readIpv6(canonical!, back)).toBe(true);
          expect([...back]).toEqual([...words]);
        }
        // Plain forms are read fast, not left to the slow path.
        if (canonical && text === text.trim() && !/[[\]%]/.test(text) && !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text) && canonical.includes(":")) {
          expect(readIpv6(text, words), text).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

function isAccepted(e: string): boolean {
  return e.includes("/") ? parseCidr(e) !== null : normalizeIp(e) !== null;
}
