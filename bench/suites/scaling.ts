/**
 * Cost as the configuration grows: bundles and signal sources at 1 ×, 10 × and 100 × the project's
 * configuration — the catalogue's apps and the exceptions (copies of today's under new names, so
 * the policy's data grows while the corpus asks about the same apps and subjects), an address list
 * of 1,000 entries, an ASN list of 100 and each subject's behaviour history (10 proven
 * logins) — and for each: the bundle's size, its load time, decide and signal-collection
 * medians, and the resident memory of a fresh process holding the bundle and the lists. The
 * growth factor is each figure at 10 × and 100 × over the same figure at 1 ×, in the same run.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { buildBundle } from "../../src/bundle/build.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { Signals } from "../../src/signals/collect.js";
import type { RequestFacts } from "../../src/signals/request.js";
import { Stepup } from "../../src/stepup.js";
import { addressFeed, asnFeed } from "../feeds.js";
import { cycle, measure, quantile, ratio, type Measurement, type Suite } from "../harness.js";

const NOW = 1_795_852_800;
const FACTORS = [1, 10, 100] as const;
const BASE = { addresses: 1_000, asns: 100, history: 10 };
const ADDRESSES = ["198.51.100.7", "203.0.113.9", "192.0.2.10", "2001:db8::5", "81.2.69.160"];

interface Scale {
  readonly factor: number;
  readonly bundle: string;
  readonly bytes: number;
  readonly loadMs: number;
  readonly rss: number;
  readonly stepup: Stepup;
  readonly signals: Signals;
}

/** The project's data with `factor` times its apps and exceptions. */
function scaledData(data: Record<string, any>, factor: number): Record<string, any> {
  const apps = { ...data.catalog.apps };
  const exceptions = { ...data.exceptions };
  for (let copy = 1; copy < factor; copy++) {
    for (const [name, app] of Object.entries(data.catalog.apps as Record<string, unknown>)) apps[`${name}-copy${copy}`] = app;
    for (const [id, ex] of Object.entries(data.exceptions as Record<string, any>)) {
      exceptions[`${id}-copy${copy}`] = {
        ...ex,
        subjects: Object.fromEntries(Object.keys(ex.subjects).map((s) => [`copy${copy}.${s}`, true])),
        apps: Object.fromEntries(Object.keys(ex.apps).map((a) => [`${a}-copy${copy}`, true])),
      };
    }
  }
  return { ...data, catalog: { ...data.catalog, apps }, exceptions };
}

const suite: Suite = {
  name: "scaling",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-scaling-"));
    try {
      const regoDir = process.env.BENCH_REGO ?? "rego";
      const data = JSON.parse(await readFile(join(regoDir, "stepup/config/data.json"), "utf8")) as Record<string, any>;
      const { privateKey, publicKey } = await generateKeyPair("ES256");
      const jwks = join(dir, "jwks.json");
      await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k", alg: "ES256" }] }));
      const requests: RequestFacts[] = [];
      for (let i = 0; i < 16; i++) {
        const token = await new SignJWT({ iss: "https://idp.test", sub: `user-${i}@example.com`, aud: "api", client_id: "web", jti: `j${i}`, acr: "phr", amr: ["hwk"], auth_time: NOW - 60 })
          .setProtectedHeader({ alg: "ES256", kid: "k", typ: "at+jwt" })
          .setIssuedAt(NOW - 10)
          .setExpirationTime(NOW + 3600)
          .sign(privateKey);
        const headers = { authorization: `Bearer ${token}`, "x-forwarded-for": ADDRESSES[i % ADDRESSES.length]! };
        requests.push({ peer: "127.0.0.1", headers, method: i % 3 === 0 ? "POST" : "GET", path: i % 3 === 0 ? "/admin/users" : "/wiki/home", route: null });
      }

      // One load first, so that the first factor's load time is not the one that warms the JIT.
      await Stepup.load(ctx.bundlePath);
      const scales: Scale[] = [];
      for (const factor of FACTORS) {
        const rego = join(dir, `rego-${factor}`);
        await cp(regoDir, rego, { recursive: true });
        await writeFile(join(rego, "stepup/config/data.json"), JSON.stringify(scaledData(data, factor)));
        const bundle = join(dir, `stepup-${factor}.tar.gz`);
        await buildBundle({ regoDir: rego, out: bundle, revision: `scale-${factor}` });
        const files = { addresses: join(dir, `addresses-${factor}.txt`), asns: join(dir, `asns-${factor}.txt`) };
        // The addresses the requests come from are in neither list: every lookup searches to the end.
        await writeFile(files.addresses, addressFeed(BASE.addresses * factor));
        await writeFile(files.asns, asnFeed(BASE.asns * factor));
        const loads: number[] = [];
        let stepup: Stepup | undefined;
        for (let i = 0; i < (ctx.quick ? 1 : 5); i++) {
          const start = performance.now();
          stepup = await Stepup.load(bundle);
          loads.push(performance.now() - start);
        }
        const store = new MemoryBehaviorStore();
        const signals = await Signals.create({
          clock: () => NOW,
          session: { keys: { jwksFile: jwks }, issuer: "https://idp.test", audience: "api" },
          network: {
            trustedProxies: ["127.0.0.1"],
            zones: { corporate: ["198.51.100.0/24"] },
            lists: [
              { file: files.addresses, reputation: "malicious" },
              { file: files.asns, kind: "asn", anonymizer: "hosting" },
            ],
          },
          geo: { cityDb: "test/fixtures/geo/test-city.mmdb", asnDb: "test/fixtures/geo/test-asn.mmdb" },
          behavior: { store },
          targets: { routes: [{ path: "/wiki/:page", app: "wiki" }, { method: "POST", path: "/admin/users", app: "admin-console", action: "admin" }] },
        });
        // History: BASE.history × factor proven logins per subject (the store keeps its own bounds).
        for (const req of requests) {
          const collected = await signals.collect(req);
          for (let h = 0; h < BASE.history * factor; h++) {
            const from = { ...collected, input: { ...collected.input, now: NOW - 86_400 + h * 60 } };
            await signals.recordLogin(from);
          }
        }
        scales.push({ factor, bundle, bytes: (await stat(bundle)).size, loadMs: quantile(loads.sort((a, b) => a - b), 0.5), rss: await childRss(bundle, files.addresses, files.asns), stepup: stepup!, signals });
      }

      const inputs = await Promise.all(requests.map(async (r) => (await scales[0]!.signals.collect(r)).input));
      const corpus = [...ctx.corpus, ...inputs];
      const tasks: Record<string, () => unknown> = {};
      for (const s of scales) {
        const nextInput = cycle(corpus);
        const nextRequest = cycle(requests);
        tasks[`decide, ${s.factor} × configuration`] = () => s.stepup.decideInput(nextInput());
        tasks[`collect signals, ${s.factor} × configuration`] = () => s.signals.collect(nextRequest());
      }
      const results = await measure(tasks, ctx);
      const by = (kind: string, factor: number) => results.find((m) => m.name === `${kind}, ${factor} × configuration`)!;
      const measurements: Measurement[] = scales.flatMap((s) => [by("decide", s.factor), by("collect signals", s.factor)]);
      const base = scales[0]!;
      const growth = scales.slice(1).flatMap((s) => [
        ratio(`decide, ${s.factor} × / 1 × (median)`, by("decide", s.factor).median_us / by("decide", 1).median_us, s.factor === 100 ? { text: "≤ 1.3", met: (v) => v <= 1.3 } : undefined),
        ratio(`collect signals, ${s.factor} × / 1 × (median)`, by("collect signals", s.factor).median_us / by("collect signals", 1).median_us),
        ratio(`bundle size, ${s.factor} × / 1 ×`, s.bytes / base.bytes),
        ratio(`bundle load time, ${s.factor} × / 1 × (median)`, s.loadMs / base.loadMs),
        ratio(`RSS with bundle and lists, ${s.factor} × / 1 ×`, s.rss / base.rss),
      ]);
      const apps = Object.keys(data.catalog.apps).length;
      const exceptions = Object.keys(data.exceptions).length;
      return {
        suite: "scaling",
        measurements,
        ratios: growth,
        notes: [
          ...scales.map(
            (s) =>
              `${s.factor} ×: ${apps * s.factor} apps, ${exceptions * s.factor} exceptions, ${(BASE.addresses * s.factor).toLocaleString("en-US")} address-list entries, ${(BASE.asns * s.factor).toLocaleString("en-US")} ASNs, ${BASE.history * s.factor} logins of history per subject; bundle ${(s.bytes / 1024).toFixed(0)} KiB, loaded in ${s.loadMs.toFixed(0)} ms (median of ${ctx.quick ? 1 : 5}); RSS of a fresh process holding the bundle and lists ${(s.rss / 2 ** 20).toFixed(0)} MiB`,
          ),
          `decide over the ${ctx.corpus.length} scenarios and the ${inputs.length} collected inputs; collection of 16 requests with ES256 access tokens (cached after the first verification), geography, both lists and the in-memory behaviour store; every factor in the same interleaved rounds`,
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;

function childRss(bundle: string, addresses: string, asns: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--expose-gc", "bench/children/scaling.mjs", bundle, addresses, asns], (err, stdout, stderr) => {
      if (err) reject(new Error(`scaling child failed: ${stderr || err.message}`));
      else resolve((JSON.parse(stdout) as { rss: number }).rss);
    });
  });
}
