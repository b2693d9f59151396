import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpListInvalidError, SignalConfigInvalidError } from "../../src/errors.js";
import { clientAddress } from "../../src/signals/client-address.js";
import { normalizeIp } from "../../src/contracts/address.js";
import { AsnSet } from "../../src/signals/asn-set.js";
import { AddressSet } from "../../src/signals/ip.js";
import { parseList } from "../../src/signals/ip-lists.js";
import { NetworkSignals } from "../../src/signals/network.js";

describe("addresses", () => {
  it.each([
    ["198.51.100.7", "198.51.100.7"],
    [" 198.51.100.7 ", "198.51.100.7"],
    ["198.51.100.7:8443", "198.51.100.7"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["::ffff:c633:6407", "198.51.100.7"],
    ["2001:0DB8:0:0::1", "2001:db8::1"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["[2001:db8::1]", "2001:db8::1"],
  ])("reads %j as %j", (raw, canonical) => {
    expect(normalizeIp(raw)).toBe(canonical);
  });

  it.each(["", "unknown", "198.51.100", "198.51.100.256", "010.1.1.1", "fe80::1%eth0", "1.2.3.4, 5.6.7.8", "x".repeat(100), "[::1", "2001:db8::g"])(
    "refuses %j",
    (raw) => {
      expect(normalizeIp(raw)).toBeNull();
    },
  );

  it("matches addresses and networks of both families", () => {
    const set = new AddressSet();
    for (const e of ["203.0.113.9", "198.51.100.0/24", "2001:db8:c0::/48", "2001:db8::7"]) expect(set.add(e)).toBe(true);
    for (const ip of ["203.0.113.9", "198.51.100.200", "2001:db8:c0:1::5", "2001:db8::7"]) expect(set.has(ip), ip).toBe(true);
    for (const ip of ["203.0.113.10", "198.51.101.1", "2001:db8:c1::5", "2001:db8::8"]) expect(set.has(ip), ip).toBe(false);
    for (const e of ["198.51.100.0/33", "2001:db8::/129", "nope/8", "198.51.100.0/x"]) expect(set.add(e), e).toBe(false);
  });
});

describe("client address across trusted proxies", () => {
  const proxies = new AddressSet();
  proxies.add("127.0.0.1");
  proxies.add("2001:db8:ff::/48");

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(clientAddress("127.0.0.2", "198.51.100.7", proxies)).toEqual({ ip: "127.0.0.2", source: "peer" });
  });

  it("takes the first untrusted hop from the right", () => {
    expect(clientAddress("127.0.0.1", "203.0.113.1, 198.51.100.7", proxies).ip).toBe("198.51.100.7");
    expect(clientAddress("127.0.0.1", "203.0.113.1, 198.51.100.7, 2001:db8:ff::2", proxies).ip).toBe("198.51.100.7");
    expect(clientAddress("::ffff:127.0.0.1", ["203.0.113.1", "198.51.100.7"], proxies).ip).toBe("198.51.100.7");
  });

  it("uses the peer when a trusted proxy sends no or an empty header", () => {
    expect(clientAddress("127.0.0.1", undefined, proxies).ip).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "", proxies).ip).toBe("127.0.0.1");
  });

  it("takes the leftmost hop when every hop is a trusted proxy", () => {
    expect(clientAddress("127.0.0.1", "2001:db8:ff::9, 127.0.0.1", proxies).ip).toBe("2001:db8:ff::9");
  });

  it("leaves the client unknown when the chain is malformed, too long or the peer is missing", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.7, garbage", proxies).ip).toBeNull();
    expect(clientAddress("127.0.0.1", "198.51.100.7,,127.0.0.1", proxies).ip).toBeNull();
    expect(clientAddress("127.0.0.1", new Array(40).fill("127.0.0.1").join(","), proxies).ip).toBeNull();
    expect(clientAddress("127.0.0.1", "1".repeat(5000), proxies).ip).toBeNull();
    expect(clientAddress(undefined, "198.51.100.7", proxies).ip).toBeNull();
  });

  it("never lets an untrusted peer choose its address, whatever the header says", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string())), (header) => {
        expect(clientAddress("192.0.2.44", header, proxies)).toEqual({ ip: "192.0.2.44", source: "peer" });
      }),
    );
  });

  it("never throws on any header from a trusted proxy, and returns an address or null", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())).map((a) => a.join(", "))), (header) => {
        const { ip } = clientAddress("127.0.0.1", header, proxies);
        expect(ip === null || normalizeIp(ip) === ip).toBe(true);
      }),
    );
  });
});

describe("list files", () => {
  it("reads addresses, CIDRs and comments", () => {
    const list = parseList("# Tor exits\n203.0.113.9\n\n198.51.100.0/24 ; SBL123\n2001:db8::/32 # v6\r\n", { file: "t", anonymizer: "tor" });
    expect(list.entries).toBe(3);
    expect(list.ips?.has("198.51.100.4")).toBe(true);
  });

  it("reads ASN lists with or without the AS prefix", () => {
    const list = parseList("AS64502 Example Hosting\n64503,Other\nas64504\n", { file: "a", kind: "asn", anonymizer: "hosting" });
    expect(list.asns?.ranges()).toEqual([[64502, 64504]]);
    expect([64501, 64502, 64503, 64504, 64505].map((a) => list.asns?.has(a))).toEqual([false, true, true, true, false]);
  });

  it("reads ASN ranges, and refuses one that runs backwards or past 32 bits", () => {
    const list = parseList("AS64512-AS65534 # private\n13335\n4200000000-4294967294\n", { file: "a", kind: "asn", anonymizer: "hosting" });
    expect(list.entries).toBe(3);
    expect([64511, 64512, 65000, 65534, 65535, 13335, 4200000000, 4294967294, 4294967295].map((a) => list.asns?.has(a))).toEqual([false, true, true, true, false, true, true, true, false]);
    expect(() => parseList("AS65534-AS64512\n", { file: "r.txt", kind: "asn", anonymizer: "vpn" })).toThrow("r.txt:1: not an ASN range");
    expect(() => parseList("1-4294967296\n", { file: "r.txt", kind: "asn", anonymizer: "vpn" })).toThrow("r.txt:1: not an ASN range");
  });

  it("looks ASNs up in merged ranges exactly as a plain list of ranges answers", () => {
    const asn = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 4_294_967_295, 4_294_967_294));
    const range = fc.tuple(asn, fc.integer({ min: 0, max: 40 })).map(([low, width]) => [low, Math.min(4_294_967_295, low + width)] as const);
    fc.assert(
      fc.property(fc.array(range, { maxLength: 30 }), fc.array(asn, { maxLength: 60 }), (ranges, probes) => {
        const set = new AsnSet();
        for (const [low, high] of ranges) set.add(low, high);
        set.prepare();
        for (const probe of [...probes, ...ranges.flat(), ...ranges.map(([, h]) => h + 1)]) {
          expect(set.has(probe), String(probe)).toBe(ranges.some(([low, high]) => low <= probe && probe <= high));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("names the file and line of an entry it cannot read", () => {
    const bad = () => parseList("203.0.113.9\nnot-an-ip\n", { file: "tor.txt", anonymizer: "tor" });
    expect(bad).toThrow(IpListInvalidError);
    expect(bad).toThrow("tor.txt:2: not an IP address or CIDR");
    expect(() => parseList("AS99999999999\n", { file: "asn.txt", kind: "asn", anonymizer: "vpn" })).toThrow("asn.txt:1: not an ASN");
  });
});

describe("network signals", () => {
  let dir: string;
  let tor: string;
  let bad: string;
  let hosting: string;
  let good: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-net-"));
    [tor, bad, hosting, good] = ["tor.txt", "bad.txt", "hosting.txt", "good.txt"].map((f) => join(dir, f)) as [string, string, string, string];
    await writeFile(tor, "203.0.113.66\n2001:db8:70::/48\n");
    await writeFile(bad, "203.0.113.0/28\n");
    await writeFile(hosting, "AS64502\n");
    await writeFile(good, "198.51.100.0/24\n203.0.113.5\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const zones = { corporate: ["198.51.100.0/24", "2001:db8:c0::/48"], known: ["192.0.2.0/24"] };

  it("puts addresses in the configured zones, IPv4 and IPv6", async () => {
    const net = await NetworkSignals.load({ zones });
    expect(net.classify("198.51.100.7", null).zone).toBe("corporate");
    expect(net.classify("2001:db8:c0::1", null).zone).toBe("corporate");
    expect(net.classify("192.0.2.1", null).zone).toBe("known");
    expect(net.classify("203.0.113.9", null).zone).toBe("external");
    expect(net.classify(null, null)).toEqual({ ip: null, zone: null, reputation: null, anonymizer: null, asn: null });
  });

  it("leaves reputation and anonymizer unknown when no list is configured", async () => {
    const net = await NetworkSignals.load({ zones });
    expect(net.classify("203.0.113.66", 64502)).toMatchObject({ reputation: null, anonymizer: null, asn: 64502 });
  });

  it("reads reputation and anonymizers from lists, the worst listing winning", async () => {
    const net = await NetworkSignals.load({
      zones,
      lists: [
        { file: tor, anonymizer: "tor" },
        { file: bad, reputation: "malicious" },
        { file: good, reputation: "good" },
        { file: hosting, kind: "asn", anonymizer: "hosting" },
      ],
    });
    expect(net.classify("203.0.113.66", 64502)).toMatchObject({ anonymizer: "tor", reputation: "neutral" });
    expect(net.classify("203.0.113.5", 64502)).toMatchObject({ anonymizer: "hosting", reputation: "malicious" });
    expect(net.classify("198.51.100.7", 64500)).toMatchObject({ anonymizer: "none", reputation: "good" });
    expect(net.classify("2001:db8:70::1", 64503)).toMatchObject({ anonymizer: "tor" });
    // Without its ASN, an address cannot be cleared by an ASN list: the anonymizer stays unknown.
    expect(net.classify("192.0.2.1", null)).toMatchObject({ anonymizer: null, reputation: "neutral" });
  });

  it("reloads lists at run time, and keeps the old ones when a file is broken", async () => {
    const file = join(dir, "reload.txt");
    await writeFile(file, "203.0.113.77\n");
    const net = await NetworkSignals.load({ lists: [{ file, reputation: "suspicious" }] });
    expect(net.classify("203.0.113.78", null).reputation).toBe("neutral");
    await writeFile(file, "203.0.113.77\n203.0.113.78\n");
    await net.reload();
    expect(net.classify("203.0.113.78", null).reputation).toBe("suspicious");
    await writeFile(file, "203.0.113.79\nbroken line\n");
    await expect(net.reload()).rejects.toThrow(IpListInvalidError);
    expect(net.classify("203.0.113.78", null).reputation).toBe("suspicious");
    expect(net.listSizes[file]).toBe(2);
  });

  it("reloads by itself when a watched list file changes", async () => {
    const file = join(dir, "watched.txt");
    await writeFile(file, "203.0.113.90\n");
    const net = await NetworkSignals.load({ lists: [{ file, anonymizer: "vpn" }] });
    const errors: unknown[] = [];
    const stop = net.watch((e) => errors.push(e), 20);
    try {
      await writeFile(file, "203.0.113.90\n203.0.113.91\n");
      const deadline = Date.now() + 5_000;
      while (net.classify("203.0.113.91", null).anonymizer !== "vpn" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(net.classify("203.0.113.91", null).anonymizer).toBe("vpn");
      expect(errors).toEqual([]);
    } finally {
      stop();
    }
  });

  it("refuses a configuration with a bad CIDR, naming the field", async () => {
    const err = await NetworkSignals.load({ trustedProxies: ["127.0.0.1", "10.0.0.0/40"], zones: { corporate: ["nope"] } }).catch((e) => e);
    expect(err).toBeInstanceOf(SignalConfigInvalidError);
    expect((err as SignalConfigInvalidError).issues.map((i) => i.path)).toEqual(["network.trustedProxies[1]", "network.zones.corporate[0]"]);
  });

  it("refuses a list that means nothing, and a list file that is missing", async () => {
    await expect(NetworkSignals.load({ lists: [{ file: tor }] })).rejects.toThrow(SignalConfigInvalidError);
    await expect(NetworkSignals.load({ lists: [{ file: join(dir, "missing.txt"), anonymizer: "tor" }] })).rejects.toThrow(IpListInvalidError);
  });
});
