/**
 * A real Redis Cluster for the tests: three redis-server masters in cluster mode on free loopback
 * ports, joined with `redis-cli --cluster create`, stopped with their processes. Debian's
 * redis-server and redis-cli are components the suite needs; a missing one fails it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisCluster {
  readonly nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-redis-cluster-"));
  const children: ChildProcess[] = [];
  const nodes: { host: string; port: number }[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    })));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const child = spawn("redis-server", [
        "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout", "2000", "--dir", dir,
      ], { stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      await ready(child);
      nodes.push({ host: "127.0.0.1", port });
    }
    await run("redis-cli", ["--cluster", "create", ...nodes.map((n) => `${n.host}:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    await settled(nodes);
  } catch (err) {
    await stop();
    throw new Error(`could not start a Redis Cluster (install redis-server and redis-cli: apt-get install -y redis-server): ${String(err)}`);
  }
  return { nodes, stop };
}

// Every node must see every slot covered before clients use the cluster.
async function settled(nodes: { host: string; port: number }[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(nodes.map(async (n) => (await run("redis-cli", ["-h", n.host, "-p", String(n.port), "cluster", "info"])).stdout));
    if (states.every((s) => s.includes("cluster_state:ok"))) return;
    if (Date.now() > deadline) throw new Error(`cluster not ready: ${states.join(" | ")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server not ready in 10 s: ${output.slice(-500)}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
