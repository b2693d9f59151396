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
