/**
 * The pinned OPA as a plain `opa run --server` process on a free loopback port, with a config file
 * and extra policy files; stopped by the caller (also on failure, from afterAll).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { freePort } from "./collector.js";

export interface OpaServer {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

export async function startOpa(config: string, files: Record<string, string> = {}, timeoutMs = 60_000): Promise<OpaServer> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-opa-"));
  await writeFile(join(dir, "config.yaml"), config);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const port = await freePort();
  const child: ChildProcess = spawn(
    opaBinary(),
    ["run", "--server", "--addr", `127.0.0.1:${port}`, "--config-file", join(dir, "config.yaml"),
      ...Object.keys(files).map((f) => join(dir, f))],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`opa exited early: ${output}`);
    }
    const ok = await fetch(`${url}/health?bundles`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`opa not ready in ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, stop };
}
