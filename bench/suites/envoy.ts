/**
 * Envoy ext_authz under load: opa-envoy-plugin (the bundle's Rego) beside stepup's Node ext_authz
 * server (the bundle's wasm) in one process and on every core (`--workers`, node:cluster), under
 * the same open-loop load — CheckRequests sent at a fixed rate whatever the answers, as Envoy
 * forwards its traffic — in steps of rising rate (100 to 4,000 Checks/s), in the same run. The
 * load comes from the Go client's load mode (test/envoy-client, grpc-go on Envoy's own types), a
 * process of its own whose per-Check cost is small beside the servers', as Envoy's is. Each
 * server's ladder climbs until a step it does not keep up with (p99 of 50 ms or more, or a failed
 * Check): the rate it keeps up with is the step below. Its sustained rate is the highest step of
 * its ladder with p99 under 5 ms and no failed Check; envoy-load.svg charts p50 and p99 by rate.
 * The corpus is every scenario as the CheckRequest Envoy would send for it. The servers get the same signals (the edge settings; no
 * geography or behaviour store) and run as processes of their own: the plugin in its container
 * (or a plain process with STEPUP_SIDECAR=process), the Node server as `stepup envoy serve`
 * (dist/cli.js, which `make bench` builds).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/paths.js";
import { makeEdge, protoJson } from "../../test/support/envoy/edge.js";
import { goLoad, type LoadRun } from "../../test/support/envoy/go-client.js";
import { startPlugin } from "../../test/support/envoy/plugin.js";
import { freePort } from "../../test/support/ports.js";
import { ratio, type Measurement, type Suite } from "../harness.js";

function summary(name: string, run: LoadRun): Measurement {
  const sorted = [...run.latencies_us].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { name, median_us: at(0.5), p99_us: at(0.99), samples: sorted.length, ops_per_s: sorted.length / run.elapsed_s };
}

/** `stepup envoy serve` on a free loopback port, with the edge settings and no geography; stopped with SIGTERM. */
async function startNodeServer(bundlePath: string, settingsFile: string, workers = 1): Promise<{ address: string; stop(): Promise<void> }> {
  const cli = `${packageRoot()}dist/cli.js`;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` (make bench does)`);
  const port = await freePort();
  const args = [cli, "envoy", "serve", "--settings", settingsFile, "--bundle", bundlePath, "--port", String(port), "--no-geo", "--timeout", "5000", "--workers", String(workers)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  while (!output.includes("listening on")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`stepup envoy serve did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { address: `127.0.0.1:${port}`, stop };
}

/** The p99 a rate must stay under, and no Check may fail, for the rate to count as sustained. */
const P99_LIMIT_US = 5_000;
/** The p99 under which a server still keeps up with the rate (beyond it, Checks queue); its ladder ends above it. */
const KEEP_UP_US = 50_000;

interface Step {
  readonly rate: number;
  readonly run: LoadRun;
  readonly p50: number;
  readonly p99: number;
}

const within = (step: Step, limit: number) => step.run.failures === 0 && step.run.latencies_us.length > 0 && step.p99 < limit;

/** The highest rate of the ladder's unbroken run of steps kept up with, from its first; 0 when the first is not. */
function keptUpRate(ladder: readonly Step[]): number {
  let rate = 0;
  for (const step of ladder) {
    if (!within(step, KEEP_UP_US)) break;
    rate = step.rate;
  }
  return rate;
}

/**
 * The highest rate of the ladder (which ends above the first step not kept up with) within 5 ms
 * and without a failed Check; 0 when none is. A lower step may miss it while a higher one holds:
 * at the lowest rates each Check wakes idle processes, whose wake-up a busy host delays.
 */
function sustainedRate(ladder: readonly Step[]): number {
  return ladder.reduce((rate, step) => (within(step, P99_LIMIT_US) ? Math.max(rate, step.rate) : rate), 0);
}

const suite: Suite = {
  name: "envoy",
  async run(ctx) {
    // 100 below the issue's steps, so that a machine busy with other work still shows where each
    // server stands. At least 1,000 Checks per step, so that its p99 is not one outlier.
    const rates = ctx.quick ? [100, 500] : [100, 250, 500, 1_000, 2_000, 4_000];
    const secondsAt = (rate: number) => (ctx.quick ? 1 : Math.max(4, 1_000 / rate));
    const connections = 4;
    const timeoutMs = 2_000;
    const workers = availableParallelism();
    const edge = await makeEdge();
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-envoy-"));
    const settingsFile = join(dir, "settings.json");
    await writeFile(settingsFile, JSON.stringify(edge.settings));
    const stops: (() => Promise<void>)[] = [];
    try {
      const plugin = await startPlugin(ctx.bundlePath, edge.settings, { decisionLogs: false });
      stops.push(() => plugin.stop());
      const single = await startNodeServer(ctx.bundlePath, settingsFile);
      stops.push(() => single.stop());
      const cluster = await startNodeServer(ctx.bundlePath, settingsFile, workers);
      stops.push(() => cluster.stop());
      const names = { plugin: "opa-envoy-plugin", single: "Node ext_authz server, one process", cluster: `Node ext_authz server, ${workers} workers` } as const;
      const addresses = { plugin: plugin.grpcAddress, single: single.address, cluster: cluster.address };
      const keys = Object.keys(names) as (keyof typeof names)[];
      const requests = await Promise.all(ctx.corpus.map(async (input, i) => protoJson(await edge.derive(input, `bench-${i}`))));
      const load = (key: keyof typeof names, rate: number, seconds: number) => goLoad(addresses[key], requests, { rate, seconds, connections, timeoutMs });
      // Warm every server: JIT, connections on every worker, the plugin's query cache.
      for (const key of keys) await load(key, 200, ctx.quick ? 0.5 : 3);
      const steps: Record<string, Step[]> = { plugin: [], single: [], cluster: [] };
      for (const [i, rate] of rates.entries()) {
        // Each rate starts with another server, so none always runs first.
        for (const key of keys.map((_, j) => keys[(i + j) % keys.length]!)) {
          const ladder = steps[key]!;
          if (ladder.some((s) => !within(s, KEEP_UP_US))) continue;
          // Tried twice when the first is not within 5 ms, so that one burst of a neighbour's
          // load does not end a ladder; the better try counts.
          let step: Step | undefined;
          for (let attempt = 0; attempt < 2 && !(step && within(step, P99_LIMIT_US)); attempt++) {
            const run = await load(key, rate, secondsAt(rate));
            const m = summary("", run);
            const tried: Step = { rate, run, p50: m.median_us, p99: m.p99_us };
            if (!step || within(tried, P99_LIMIT_US) || tried.p99 < step.p99) step = tried;
          }
          ladder.push(step!);
        }
      }
      const sustained = (key: string) => sustainedRate(steps[key]!);
      const keptUp = (key: string) => keptUpRate(steps[key]!);
      const measurements: Measurement[] = keys.flatMap((key) =>
        steps[key]!.map((s) => {
          const failed = s.run.failures > 0 ? ` (${s.run.failures} failed: ${s.run.first_failure ?? "?"})` : "";
          const verdict = within(s, P99_LIMIT_US) ? "" : within(s, KEEP_UP_US) ? " — p99 over 5 ms" : " — falls behind";
          return summary(`${names[key]} at ${s.rate.toLocaleString("en-US")} Checks/s${failed}${verdict}`, s.run);
        }),
      );
      const node = Math.max(sustained("single"), sustained("cluster"));
      const lag = Math.max(...Object.values(steps).flat().map((s) => s.run.lag_us));
      const first = (key: string) => steps[key]![0];
      return {
        suite: "envoy",
        measurements,
        ratios: [
          ...keys.map((key) => ratio(`${names[key]}: highest rate sustained (Checks/s, p99 < 5 ms, no errors)`, sustained(key))),
          ...keys.map((key) => ratio(`${names[key]}: highest rate kept up with (Checks/s, p99 < 50 ms, no errors)`, keptUp(key))),
          // The plugin's rate as a share of the Node server's, so that a plugin sustaining no
          // rate at all reads as 0 rather than as a division by zero.
          ratio("opa-envoy-plugin / Node server (the better of one process and every core), sustained rate", node > 0 ? sustained("plugin") / node : Number.NaN, { text: "≤ 0.5", met: (v) => v <= 0.5 }),
          ratio("Node server (the better of one process and every core) / opa-envoy-plugin, rate kept up with", keptUp("plugin") > 0 ? Math.max(keptUp("single"), keptUp("cluster")) / keptUp("plugin") : Number.NaN),
        ],
        notes: [
          `open loop: steps of ${rates.join(", ")} CheckRequests/s for ${ctx.quick ? "1 s" : "4 s or 1,000 Checks, whichever is longer,"} each, sent on schedule whatever the answers by the Go client's load mode (grpc-go, ${connections} connections per server, a ${timeoutMs / 1000} s deadline), latency from each Check's send to its answer; a step that is not within 5 ms is tried twice and the better try counts; each rate starts with another server; a server's ladder ends above the first step it does not keep up with (p99 ≥ 50 ms or any failed Check)`,
          `at the first step (${rates[0]} Checks/s): ${keys.map((key) => `${names[key]} p50 ${((first(key)?.p50 ?? 0) / 1e3).toFixed(1)} ms, p99 ${((first(key)?.p99 ?? 0) / 1e3).toFixed(1)} ms`).join("; ")}`,
          `the load generator's largest lag behind its schedule over the run: ${(lag / 1e3).toFixed(1)} ms (it shares the ${availableParallelism()} cores with the servers)`,
          `corpus: the ${requests.length} scenarios as CheckRequests (signed tokens and posture statements, mTLS peers); every server verifies, maps, decides and answers with the same signals`,
          `opa-envoy-plugin v1.15.2-envoy ${plugin.mode === "container" ? "in a container (FROM scratch, host network)" : "as a plain process"} (Go, every core); the Node server as \`stepup envoy serve\` in one process and with \`--workers ${workers}\` (node:cluster); all on the same bundle`,
        ],
        files: { "envoy-load.svg": chart(rates, keys.map((key) => ({ name: names[key], steps: steps[key]! }))) },
      };
    } finally {
      for (const stop of stops.reverse()) await stop();
      await edge.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;

/** p50 (dashed) and p99 (solid) by rate, both axes logarithmic, the 5 ms line across. */
function chart(rates: readonly number[], series: readonly { name: string; steps: readonly Step[] }[]): string {
  const [w, h, left, right, top, bottom] = [720, 420, 70, 250, 30, 50];
  const x = (rate: number) => left + ((Math.log(rate) - Math.log(rates[0]!)) / (Math.log(rates.at(-1)!) - Math.log(rates[0]!) || 1)) * (w - left - right);
  const [lo, hi] = [100, 3_000_000];
  const y = (us: number) => top + (1 - (Math.log(Math.min(hi, Math.max(lo, us))) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (h - top - bottom);
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">ext_authz Check latency by offered rate (open loop)</text>`,
  ];
  for (const us of [100, 1_000, 10_000, 100_000, 1_000_000]) {
    out.push(`<line x1="${left}" x2="${w - right}" y1="${y(us)}" y2="${y(us)}" stroke="#ddd"/>`, `<text x="${left - 6}" y="${y(us) + 4}" text-anchor="end">${us >= 1e6 ? `${us / 1e6} s` : us >= 1000 ? `${us / 1000} ms` : `${us} µs`}</text>`);
  }
  for (const rate of rates) out.push(`<text x="${x(rate)}" y="${h - bottom + 18}" text-anchor="middle">${rate}</text>`);
  out.push(`<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">Checks per second</text>`);
  out.push(`<line x1="${left}" x2="${w - right}" y1="${y(P99_LIMIT_US)}" y2="${y(P99_LIMIT_US)}" stroke="#888" stroke-dasharray="2 3"/>`, `<text x="${w - right + 4}" y="${y(P99_LIMIT_US) + 4}">p99 limit 5 ms</text>`);
  series.forEach((s, i) => {
    const color = colors[i % colors.length]!;
    const line = (pick: (st: Step) => number, dash: string) =>
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${s.steps.map((st) => `${x(st.rate).toFixed(1)},${y(pick(st)).toFixed(1)}`).join(" ")}"/>`;
    out.push(line((st) => st.p99, ""), line((st) => st.p50, ' stroke-dasharray="5 4"'));
    for (const st of s.steps) out.push(`<circle cx="${x(st.rate).toFixed(1)}" cy="${y(st.p99).toFixed(1)}" r="3" fill="${within(st, P99_LIMIT_US) ? color : "white"}" stroke="${color}"/>`);
    out.push(`<text x="${w - right + 4}" y="${top + 40 + i * 34}" fill="${color}">${s.name}</text>`, `<text x="${w - right + 4}" y="${top + 54 + i * 34}" fill="${color}" font-size="10">solid p99, dashed p50</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
