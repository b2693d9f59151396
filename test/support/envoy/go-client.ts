/**
 * The Go ext_authz client (test/envoy-client: go-control-plane's Envoy types over grpc-go), built
 * once per run into .tools/test-build and fed CheckRequests in protojson, one JSON line each.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../../src/paths.js";
import type { CheckOutcome } from "./node-client.js";

const run = promisify(execFile);
let built: Promise<string> | undefined;

/** Builds the Go client (Go's build cache makes a rebuild quick); resolves with the binary's path. */
export function goClient(): Promise<string> {
  built ??= (async () => {
    const root = packageRoot();
    const out = resolve(root, ".tools/test-build/envoy-client");
    await mkdir(join(root, ".tools/test-build"), { recursive: true });
    await run("go", ["build", "-o", out, "."], { cwd: join(root, "test/envoy-client"), env: { ...process.env, CGO_ENABLED: "0" } });
    return out;
  })();
  return built;
}

/** Sends each request (protojson) to `address` with the Go client; answers in the same order. */
export async function goCheck(address: string, requests: readonly { id: string; request: unknown }[]): Promise<CheckOutcome[]> {
  const binary = await goClient();
  const child = spawn(binary, ["-addr", address, "-timeout", "15s"], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  child.stdin.end(requests.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const code = await exited;
  if (code !== 0) throw new Error(`the Go client failed (${code}): ${stderr}`);
  const byId = new Map<string, CheckOutcome>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const a = JSON.parse(line) as { id: string; code: number; message?: string; response?: Record<string, unknown> };
    byId.set(a.id, { code: a.code, message: a.message ?? "", response: a.response ?? null });
  }
  return requests.map((r) => {
    const answer = byId.get(r.id);
    if (!answer) throw new Error(`the Go client gave no answer for ${r.id}`);
    return answer;
  });
}

/** What one open-loop run of the Go load generator gave; latencies in microseconds, from each send. */
export interface LoadRun {
  readonly sent: number;
  readonly failures: number;
  readonly elapsed_s: number;
  /** The most a send left after its scheduled time (µs): the generator's own lag. */
  readonly lag_us: number;
  readonly latencies_us: number[];
  readonly first_failure?: string;
}

/**
 * Sends `requests` (protojson) in turn to `address` at `rate` Checks per second for `seconds`,
 * open loop, over `connections` gRPC connections, with the Go client's load mode (test/envoy-client/load.go).
 */
export async function goLoad(address: string, requests: readonly unknown[], load: { rate: number; seconds: number; connections: number; timeoutMs: number }): Promise<LoadRun> {
  const binary = await goClient();
  const args = ["-addr", address, "-rate", String(load.rate), "-duration", `${load.seconds}s`, "-connections", String(load.connections), "-timeout", `${load.timeoutMs}ms`];
  const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  child.stdin.end(requests.map((request, i) => JSON.stringify({ id: String(i), request })).join("\n") + "\n");
  const code = await exited;
  if (code !== 0) throw new Error(`the Go load generator failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as LoadRun;
}
