/**
 * Address lists of real size: signal collection with a 1,000-entry and a 1,000,000-entry mixed
 * feed (exact addresses and networks, IPv4 and IPv6; 100,000 with BENCH_QUICK=1), the same
 * requests against each, and the big list's load time and memory in a fresh process. Beside
 * them, one lookup in the address set and in Node's BlockList (a linear scan) with 10,000
 * networks, the structure the set replaced.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { BlockList } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Signals } from "../../src/signals/collect.js";
import { AddressSet } from "../../src/signals/ip.js";
import type { RequestFacts } from "../../src/signals/request.js";
import { addressFeed, probeAddresses } from "../feeds.js";
import { cycle, measure, ratio, type Measurement, type Suite } from "../harness.js";

const NOW = 1_795_852_800;

const suite: Suite = {
  name: "address-lists",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-lists-"));
    try {
      const big = ctx.quick ? 100_000 : 1_000_000;
      const files = { small: join(dir, "small.txt"), big: join(dir, "big.txt") };
      await writeFile(files.small, addressFeed(1_000));
      await writeFile(files.big, addressFeed(big));
      const load = await child(files.big);

      // The same requests against both lists: the client address from X-Forwarded-For behind a
      // trusted proxy, a target from the routes, no token (the network signals are the point).
      const probes = probeAddresses(64);
      const requests: RequestFacts[] = probes.map((ip) => ({ peer: "127.0.0.1", headers: { "x-forwarded-for": ip }, method: "GET", path: "/wiki/home", route: null }));
      const make = (file: string) =>
        Signals.create({
          clock: () => NOW,
          network: { trustedProxies: ["127.0.0.1"], zones: { corporate: ["198.51.100.0/24"] }, lists: [{ file, reputation: "malicious" }] },
          geo: false,
          targets: { routes: [{ path: "/wiki/:page", app: "wiki" }] },
        });
      const small = await make(files.small);
      const large = await make(files.big);

      // One lookup: 10,000 /24 networks in the address set and in BlockList.
      const set = new AddressSet();
      const blockList = new BlockList();
      for (let i = 0; i < 10_000; i++) {
        const base = `${1 + (i >> 8)}.${i & 255}.${(i * 7) & 255}.0`;
        set.add(`${base}/24`);
        blockList.addSubnet(base, 24, "ipv4");
      }
      set.prepare();
      const v4probes = probes.filter((p) => !p.includes(":"));
      const next = { small: cycle(requests), large: cycle(requests), set: cycle(v4probes), list: cycle(v4probes) };
      const [collectSmall, collectLarge, setLookup, listLookup] = await measure(
        {
          "collect signals, a 1,000-entry address list": () => small.collect(next.small()),
          [`collect signals, a ${big.toLocaleString("en-US")}-entry address list`]: () => large.collect(next.large()),
          "one lookup, address set with 10,000 networks": () => set.has(next.set()),
          "one lookup, Node's BlockList with 10,000 networks": () => blockList.check(next.list(), "ipv4"),
        },
        ctx,
      );
      if (!collectSmall || !collectLarge || !setLookup || !listLookup) throw new Error("missing measurement");
      const loadRow: Measurement = { name: `load the ${big.toLocaleString("en-US")}-entry list in a fresh process (read, parse, sort, merge)`, median_us: load.ms * 1000, p99_us: load.ms * 1000, samples: 1 };
      const peakMiB = (load.peak - load.rss_before) / 2 ** 20;
      const keptMiB = (load.rss_after - load.rss_before) / 2 ** 20;
      return {
        suite: "address-lists",
        measurements: [collectSmall, collectLarge, setLookup, listLookup, loadRow],
        ratios: [
          ratio(`collect, ${big.toLocaleString("en-US")} entries / 1,000 entries (median)`, collectLarge.median_us / collectSmall.median_us, { text: "≤ 1.5", met: (v) => v <= 1.5 }),
          ratio(`load time of the ${big.toLocaleString("en-US")}-entry list (s, wall clock)`, load.ms / 1000, { text: "< 5", met: (v) => v < 5 }),
          ratio("the same in CPU time (s; the wall clock also counts the neighbours' load)", load.cpu_ms / 1000),
          ratio("memory while loading it (peak RSS growth, MiB)", peakMiB, { text: "< 200", met: (v) => v < 200 }),
          ratio("BlockList / address set, one lookup with 10,000 networks (median)", listLookup.median_us / setLookup.median_us),
        ],
        notes: [
          "Feeds from bench/feeds.ts (a fixed seed): 50 % exact IPv4, 20 % IPv4 networks /16–/24, 20 % IPv6 networks /32–/64, 10 % exact IPv6.",
          `The big list kept ${keptMiB.toFixed(0)} MiB of RSS after loading (the text collected); the peak includes the file's text while it is parsed.`,
          "Collection here is the network part and the target (no token, no geography); the 64 probe addresses mostly miss the list, some hit.",
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;

function child(file: string): Promise<{ ms: number; cpu_ms: number; rss_before: number; peak: number; rss_after: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--expose-gc", "bench/children/address-list.mjs", file], { maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`loading the list failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as { ms: number; cpu_ms: number; rss_before: number; peak: number; rss_after: number });
    });
  });
}
