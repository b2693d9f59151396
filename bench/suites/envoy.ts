/**
 * Envoy ext_authz: opa-envoy-plugin (the bundle's Rego) beside stepup's Node ext_authz server (the
 * bundle's wasm), under the same open-loop load — CheckRequests sent at a fixed rate whatever the
 * answers, as Envoy forwards its traffic — in the same run. Latency runs from each request's
 * scheduled send time to its answer, so a server that falls behind shows it in its p99 instead of
 * slowing the load down. The corpus is every scenario as the CheckRequest Envoy would send for it.
 * Both servers get the same signals (the edge settings; no geography or behaviour store) and run
 * as processes of their own beside the load generator: the plugin in its container (or a plain
 * process with STEPUP_SIDECAR=process), the Node server as `stepup envoy serve` (dist/cli.js, which
 * `make bench` builds).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/paths.js";
import { makeEdge, protoObject } from "../../test/support/envoy/edge.js";
import { NodeEnvoyClient } from "../../test/support/envoy/node-client.js";
import { startPlugin } from "../../test/support/envoy/plugin.js";
import { freePort } from "../../test/support/ports.js";
import { ratio, type Measurement, type Suite } from "../harness.js";

interface Load {
  readonly rate: number;
  readonly seconds: number;
}

/** Sends `requests` in turn at `rate` per second for `seconds`; latencies in microseconds. */
async function openLoop(client: NodeEnvoyClient, requests: readonly Record<string, unknown>[], load: Load): Promise<{ latencies: number[]; failures: number; elapsed: number }> {
  const total = Math.round(load.rate * load.seconds);
  const interval = 1e9 / load.rate;
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < total; ) {
    const now = Number(process.hrtime.bigint() - start);
    while (sent < total && sent * interval <= now) {
      const scheduled = sent * interval;
      const request = requests[sent % requests.length]!;
      pending.push(
        client.check(request, 30_000).then((outcome) => {
          if (outcome.code !== 0) failures++;
          latencies.push((Number(process.hrtime.bigint() - start) - scheduled) / 1e3);
        }),
      );
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  return { latencies, failures, elapsed: Number(process.hrtime.bigint() - start) / 1e9 };
}

function summary(name: string, latencies: number[], elapsed: number): Measurement {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { name, median_us: at(0.5), p99_us: at(0.99), samples: sorted.length, ops_per_s: sorted.length / elapsed };
}

/** `stepup envoy serve` on a free loopback port, with the edge settings and no geography; stopped with SIGTERM. */
async function startNodeServer(bundlePath: string, settingsFile: string): Promise<{ address: string; stop(): Promise<void> }> {
  const cli = `${packageRoot()}dist/cli.js`;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` (make bench does)`);
  const port = await freePort();
  const args = [cli, "envoy", "serve", "--settings", settingsFile, "--bundle", bundlePath, "--port", String(port), "--no-geo", "--timeout", "5000"];
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

const suite: Suite = {
  name: "envoy",
  async run(ctx) {
    // A rate both servers sustain on the 2-core machine the figures come from (the plugin spends a
    // few milliseconds of CPU per Check), so the percentiles show service time, not a growing queue.
    const load: Load = ctx.quick ? { rate: 50, seconds: 2 } : { rate: 50, seconds: 10 };
    const edge = await makeEdge();
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-envoy-"));
    const settingsFile = join(dir, "settings.json");
    await writeFile(settingsFile, JSON.stringify(edge.settings));
    const node = await startNodeServer(ctx.bundlePath, settingsFile);
    const plugin = await startPlugin(ctx.bundlePath, edge.settings, { decisionLogs: false }).catch(async (err) => {
      await node.stop();
      throw err;
    });
    const clients = { plugin: new NodeEnvoyClient(plugin.grpcAddress), node: new NodeEnvoyClient(node.address) };
    try {
      const requests = await Promise.all(ctx.corpus.map(async (input, i) => protoObject(await edge.derive(input, `bench-${i}`))));
      // Warm both (JIT, connections, the plugin's query cache), then measure each twice, in
      // alternating order, so neither always runs on a warmer or busier machine.
      for (const client of Object.values(clients)) await openLoop(client, requests, { rate: load.rate, seconds: ctx.quick ? 0.5 : 1 });
      const samples = { plugin: [] as number[], node: [] as number[] };
      const elapsed = { plugin: 0, node: 0 };
      let failures = 0;
      for (const name of ["plugin", "node", "node", "plugin"] as const) {
        const run = await openLoop(clients[name], requests, { rate: load.rate, seconds: load.seconds / 2 });
        samples[name].push(...run.latencies);
        elapsed[name] += run.elapsed;
        failures += run.failures;
      }
      if (failures > 0) throw new Error(`${failures} Checks failed during the run; the figures would be void`);
      const viaPlugin = summary(`opa-envoy-plugin Check at ${load.rate} req/s (open loop, Rego)`, samples.plugin, elapsed.plugin);
      const viaNode = summary(`Node ext_authz server Check at ${load.rate} req/s (open loop, wasm)`, samples.node, elapsed.node);
      return {
        suite: "envoy",
        measurements: [viaPlugin, viaNode],
        ratios: [
          ratio("Node server / opa-envoy-plugin (p50)", viaNode.median_us / viaPlugin.median_us),
          ratio("Node server / opa-envoy-plugin (p99)", viaNode.p99_us / viaPlugin.p99_us),
        ],
        notes: [
          `open loop: ${load.rate} CheckRequests/s for ${load.seconds} s per server (two halves, alternating), latency from the scheduled send time; gRPC over loopback from one @grpc/grpc-js client`,
          `corpus: the ${requests.length} scenarios as CheckRequests (signed tokens and posture statements, mTLS peers); both servers verify, map, decide and answer with the same signals`,
          `opa-envoy-plugin v1.15.2-envoy ${plugin.mode === "container" ? "in a container (FROM scratch, host network)" : "as a plain process"}; the Node server as \`stepup envoy serve\` in its own process; both on the same bundle`,
        ],
      };
    } finally {
      for (const c of Object.values(clients)) c.close();
      await node.stop();
      await plugin.stop();
      await edge.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
