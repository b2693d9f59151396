/**
 * opa-envoy-plugin (the pinned static build) serving the stepup bundle and the edge settings on
 * free loopback ports: gRPC ext_authz and OPA's REST API. By default it runs in a container built
 * locally FROM scratch and started by testcontainers on the host's network, as it is deployed (a
 * sidecar beside Envoy); STEPUP_SIDECAR=process runs it as a plain process instead (refused under
 * CI). Decision logs go to the console, so a test can read the exact input the plugin evaluated.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeArchive } from "../../../src/bundle/archive.js";
import type { EnvoySettings } from "../../../src/contracts/envoy.js";
import { packageRoot } from "../../../src/paths.js";
import { accepts, freePort } from "../ports.js";
import { sidecarMode, type SidecarMode } from "../sidecar.js";

export interface EnvoyPlugin {
  readonly mode: SidecarMode;
  /** host:port of the ext_authz gRPC server. */
  readonly grpcAddress: string;
  /** http://127.0.0.1:<port>, OPA's REST API. */
  readonly url: string;
  /** Decision-log events printed so far (parsed). */
  decisionLogs(): Record<string, unknown>[];
  /** Everything the plugin printed so far, as it printed it. */
  output(): string;
  /**
   * The input document the plugin's Rego mapped each decision to, by the plugin's decision id:
   * the decision's logged input through the `stepup/envoy/input_document` entrypoint. Waits up to
   * 20 s for the decisions' logs; a decision without one is an error.
   */
  mappedInputs(ids: readonly string[]): Promise<Map<string, unknown>>;
  stop(): Promise<void>;
}

const IMAGE = "stepup-opa-envoy-plugin:test";
const STARTUP_MS = 60_000;

export function pluginBinary(): string {
  return `${packageRoot()}.tools/bin/opa-envoy-plugin`;
}

/** The edge settings as a data bundle of their own (root `stepup_envoy`). */
export function settingsBundle(settings: EnvoySettings, revision = "edge-test"): Uint8Array {
  const files = new Map<string, Uint8Array>([
    [".manifest", Buffer.from(JSON.stringify({ roots: ["stepup_envoy"], revision }))],
    ["stepup_envoy/data.json", Buffer.from(JSON.stringify(settings))],
  ]);
  return writeArchive(files);
}

function args(grpcPort: number, restPort: number, bundles: readonly string[], logs: boolean): string[] {
  return [
    "run",
    "--server",
    "--addr",
    `127.0.0.1:${restPort}`,
    "--skip-version-check",
    // Keeps the data as OPA values, so that an evaluation reads the settings without converting
    // them again (docs/envoy.md, "Address lists of any size").
    "--optimize-store-for-read-speed",
    "--log-format",
    "json",
    "--set",
    `plugins.envoy_ext_authz_grpc.addr=127.0.0.1:${grpcPort}`,
    "--set",
    "plugins.envoy_ext_authz_grpc.path=stepup/envoy/response",
    "--set",
    "plugins.envoy_ext_authz_grpc.skip_request_body_parse=true",
    "--set",
    `decision_logs.console=${logs}`,
    "--bundle",
    ...bundles,
  ];
}

/** Starts the plugin with `bundlePath` and `settings`; it is ready (bundles active, gRPC up) when this resolves. */
export async function startPlugin(
  bundlePath: string,
  settings: EnvoySettings,
  options: { mode?: SidecarMode; decisionLogs?: boolean } = {},
): Promise<EnvoyPlugin> {
  const mode = options.mode ?? sidecarMode();
  const dir = await mkdtemp(join(tmpdir(), "stepup-envoy-plugin-"));
  const edge = join(dir, "edge.tar.gz");
  await writeFile(edge, settingsBundle(settings));
  const [grpcPort, restPort] = [await freePort(), await freePort()];
  let output = "";
  const collect = (chunk: Buffer | string) => (output += chunk.toString());
  const common = { grpcAddress: `127.0.0.1:${grpcPort}`, url: `http://127.0.0.1:${restPort}`, decisionLogs: () => logsOf(output), output: () => output };
  const logs = options.decisionLogs ?? true;
  let stopper: (() => Promise<void>) | undefined;
  try {
    if (mode === "container") {
      stopper = await startContainer(dir, bundlePath, edge, args(grpcPort, restPort, ["/bundle/stepup.tar.gz", "/bundle/edge.tar.gz"], logs), collect);
    } else {
      stopper = startProcess(args(grpcPort, restPort, [bundlePath, edge], logs), collect);
    }
    await untilReady(common.url, grpcPort, () => output);
  } catch (err) {
    await stopper?.().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    mode,
    ...common,
    mappedInputs: (ids) => mappedInputs(common.url, common.decisionLogs, ids),
    stop: async () => {
      await stopper?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startContainer(dir: string, bundlePath: string, edge: string, command: string[], collect: (c: Buffer | string) => void): Promise<() => Promise<void>> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
  const { GenericContainer, getContainerRuntimeClient } = await import("testcontainers");
  try {
    await getContainerRuntimeClient();
  } catch (err) {
    throw new Error("no Docker engine answers: start one with scripts/docker-engine.sh, or set STEPUP_SIDECAR=process (refused under CI)", { cause: err });
  }
  const context = join(dir, "image");
  await mkdir(context, { recursive: true });
  await copyFile(new URL("Dockerfile", import.meta.url), join(context, "Dockerfile"));
  await copyFile(pluginBinary(), join(context, "opa-envoy-plugin"));
  const image = await GenericContainer.fromDockerfile(context).build(IMAGE, { deleteOnExit: false });
  const started = await image
    .withNetworkMode("host")
    .withLabels({ "org.stepup.test": "opa-envoy-plugin" })
    .withCopyFilesToContainer([
      { source: bundlePath, target: "/bundle/stepup.tar.gz", mode: 0o444 },
      { source: edge, target: "/bundle/edge.tar.gz", mode: 0o444 },
    ])
    .withCommand(command)
    .withLogConsumer((stream) => {
      stream.on("data", collect);
      stream.on("err", collect);
    })
    .withStartupTimeout(STARTUP_MS)
    .start();
  return async () => {
    await started.stop({ timeout: 0, remove: true });
  };
}

function startProcess(command: string[], collect: (c: Buffer | string) => void): () => Promise<void> {
  const child: ChildProcess = spawn(pluginBinary(), command, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  return async () => {
    process.off("exit", kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(kill, 5_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Waits until OPA reports its bundles and plugins healthy and the gRPC port accepts connections. */
async function untilReady(url: string, grpcPort: number, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health?bundles&plugins`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok && (await accepts(grpcPort))) return;
      last = response.ok ? "gRPC port closed" : `HTTP ${response.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`opa-envoy-plugin at ${url} did not become ready within ${STARTUP_MS} ms (${last}): ${output().slice(-2000)}`);
}

async function mappedInputs(url: string, logs: () => Record<string, unknown>[], ids: readonly string[]): Promise<Map<string, unknown>> {
  const deadline = Date.now() + 20_000;
  let events = logs();
  const logged = () => new Set(events.map((e) => e.decision_id));
  while (ids.some((id) => !logged().has(id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    events = logs();
  }
  const byId = new Map(events.map((e) => [e.decision_id, e]));
  const out = new Map<string, unknown>();
  for (const id of ids) {
    const event = byId.get(id);
    if (!event) throw new Error(`no decision log for the plugin's decision ${id}`);
    const response = await fetch(`${url}/v1/data/stepup/envoy/input_document`, { method: "POST", body: JSON.stringify({ input: event.input }) });
    out.set(id, ((await response.json()) as { result?: unknown }).result);
  }
  return out;
}

function logsOf(output: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of output.split("\n")) {
    if (!line.includes('"Decision Log"')) continue;
    try {
      events.push(JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>);
    } catch {
      // a line cut by the stream's chunking is read again once complete
    }
  }
  return events;
}
