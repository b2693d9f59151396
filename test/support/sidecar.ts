/**
 * A real OPA sidecar (`opa run --server`, the pinned static OPA) serving a stepup bundle on a free
 * loopback port, for the tests and the benchmarks. By default it runs in a container built
 * locally FROM scratch and started by testcontainers on the host's network (no registry, no bridge
 * network). Developers without Docker may opt into a plain process with STEPUP_SIDECAR=process;
 * under CI the container is required, and the opt-in is refused.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { freePort } from "./ports.js";

export type SidecarMode = "container" | "process";

export interface Sidecar {
  readonly mode: SidecarMode;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Kills OPA abruptly (SIGKILL), as a crash or an OOM kill would. */
  kill(): Promise<void>;
  /** Freezes OPA: connections stay open and nothing answers, as with a hung process. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Starts OPA again on the same port with the same bundle, after `kill`; resolves once healthy. */
  revive(): Promise<void>;
  /** Stops and removes everything this sidecar started. Safe to call twice. */
  stop(): Promise<void>;
}

const IMAGE = "stepup-opa-sidecar:test";
const STARTUP_MS = 60_000;

/** Which sidecar to run: a container unless STEPUP_SIDECAR=process, which CI refuses. */
export function sidecarMode(env: NodeJS.ProcessEnv = process.env): SidecarMode {
  const chosen = env.STEPUP_SIDECAR || "container";
  if (chosen !== "container" && chosen !== "process") {
    throw new Error(`STEPUP_SIDECAR must be "container" or "process", not "${chosen}"`);
  }
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  if (chosen === "process" && ci) {
    throw new Error("STEPUP_SIDECAR=process is a developer opt-out; under CI the sidecar must run in a container");
  }
  return chosen;
}

/** The arguments of `opa run` for a sidecar serving `bundle` on `port`, quiet per request. */
export function opaServerArgs(port: number, bundle: string): string[] {
  return [
    "run",
    "--server",
    "--addr",
    `127.0.0.1:${port}`,
    "--skip-version-check",
    "--log-level",
    "info",
    "--log-level-request",
    "error",
    "--bundle",
    bundle,
  ];
}

/** Starts a sidecar serving the bundle at `bundlePath`; it is healthy when this resolves. */
export async function startSidecar(bundlePath: string, mode: SidecarMode = sidecarMode()): Promise<Sidecar> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return mode === "container" ? startContainer(bundlePath, port, url) : startProcess(bundlePath, port, url);
}

async function startContainer(bundlePath: string, port: number, url: string): Promise<Sidecar> {
  // No ryuk (its image cannot be pulled) and loopback as the host: set before testcontainers loads.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import("testcontainers");
  let client;
  try {
    client = await getContainerRuntimeClient();
  } catch (err) {
    throw new Error(
      "no Docker engine answers: start one with scripts/docker-engine.sh, or set STEPUP_SIDECAR=process (refused under CI)",
      { cause: err },
    );
  }
  const image = await buildImage(GenericContainer);
  const started = await image
    .withNetworkMode("host")
    .withLabels({ "org.stepup.test": "opa-sidecar" })
    .withCopyFilesToContainer([{ source: bundlePath, target: "/bundle/stepup.tar.gz", mode: 0o444 }])
    .withCommand(opaServerArgs(port, "/bundle/stepup.tar.gz"))
    .withWaitStrategy(Wait.forLogMessage(/Initializing server/))
    .withStartupTimeout(STARTUP_MS)
    .start();
  const docker = client.container.getById(started.getId());
  const sidecar: Sidecar = {
    mode: "container",
    url,
    kill: async () => {
      await docker.kill({ signal: "SIGKILL" });
      await docker.wait();
    },
    pause: async () => {
      await docker.pause();
    },
    resume: async () => {
      await docker.unpause();
    },
    revive: async () => {
      await docker.start();
      await untilHealthy(url);
    },
    stop: async () => {
      await docker.unpause().catch(() => undefined); // a paused container cannot be stopped
      await started.stop({ timeout: 0, remove: true });
    },
  };
  return healthyOrStopped(sidecar);
}

/** The image: FROM scratch with the pinned static OPA, built from a context holding only those. */
async function buildImage(generic: typeof import("testcontainers").GenericContainer) {
  const context = await mkdtemp(join(tmpdir(), "stepup-sidecar-image-"));
  try {
    await copyFile(new URL("sidecar/Dockerfile", import.meta.url), join(context, "Dockerfile"));
    await copyFile(opaBinary(), join(context, "opa"));
    return await generic.fromDockerfile(context).build(IMAGE, { deleteOnExit: false });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

async function startProcess(bundlePath: string, port: number, url: string): Promise<Sidecar> {
  let child: ChildProcess | undefined;
  const launch = () => {
    child = spawn(opaBinary(), opaServerArgs(port, bundlePath), { stdio: ["ignore", "ignore", "inherit"] });
  };
  const killChild = () => child?.kill("SIGKILL");
  process.once("exit", killChild);
  const exited = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  launch();
  const sidecar: Sidecar = {
    mode: "process",
    url,
    kill: async () => {
      killChild();
      await exited();
    },
    pause: async () => {
      child?.kill("SIGSTOP");
    },
    resume: async () => {
      child?.kill("SIGCONT");
    },
    revive: async () => {
      launch();
      await untilHealthy(url);
    },
    stop: async () => {
      child?.kill("SIGCONT");
      killChild();
      await exited();
      process.off("exit", killChild);
    },
  };
  return healthyOrStopped(sidecar);
}

async function healthyOrStopped(sidecar: Sidecar): Promise<Sidecar> {
  try {
    await untilHealthy(sidecar.url);
    return sidecar;
  } catch (err) {
    await sidecar.stop();
    throw err;
  }
}

/** Polls OPA's `/health?bundles` until it answers 200: up, with the bundle activated. */
export async function untilHealthy(url: string, timeoutMs = STARTUP_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health?bundles`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the sidecar at ${url} did not become healthy within ${timeoutMs} ms (${last})`);
}
