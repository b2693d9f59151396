/**
 * A real Keycloak (the keycloak-quarkus-dist that scripts/keycloak.sh unpacks into .tools/keycloak)
 * for the identity-provider suites: started cold on a free loopback port (`start-dev`, an in-memory
 * database, the realm imported from test/fixtures/identity/keycloak-realm.json), with nothing that
 * would reach beyond this machine (HTTP on 127.0.0.1 only, local caches, no health, metrics or
 * tracing endpoints), and stopped by the id of the process group it was started in. When it is not
 * installed the suites skip, saying why, except under CI=true, where that fails the run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { freePort } from "./ports.js";

export const KEYCLOAK_VERSION = "26.5.6";
export const KEYCLOAK_HOME = resolve(".tools", "keycloak", `keycloak-${KEYCLOAK_VERSION}`);
export const REALM_FIXTURE = resolve("test", "fixtures", "identity", "keycloak-realm.json");
const STARTUP_MS = 180_000;

export interface Keycloak {
  readonly port: number;
  /** The test realm's issuer. */
  readonly issuer: string;
  /** Seconds from spawning to serving the realm's discovery document. */
  readonly startedInSec: number;
  output(): string;
  stop(): Promise<void>;
}

/** Why Keycloak cannot run here, or null when it can. Under CI=true the caller must fail on a reason. */
export function keycloakUnavailable(): string | null {
  if (!existsSync(join(KEYCLOAK_HOME, "bin", "kc.sh"))) return `Keycloak is not installed in ${KEYCLOAK_HOME} (run scripts/keycloak.sh; it needs Java 17+ and Maven)`;
  return null;
}

export async function startKeycloak(): Promise<Keycloak> {
  const reason = keycloakUnavailable();
  if (reason) throw new Error(reason);
  await mkdir(join(KEYCLOAK_HOME, "data", "import"), { recursive: true });
  await copyFile(REALM_FIXTURE, join(KEYCLOAK_HOME, "data", "import", "stepup-realm.json"));
  const port = await freePort();
  const started = Date.now();
  const child = spawn(
    join(KEYCLOAK_HOME, "bin", "kc.sh"),
    [
      "start-dev",
      "--http-host=127.0.0.1",
      `--http-port=${port}`,
      "--db=dev-mem",
      "--cache=local",
      "--import-realm",
      "--health-enabled=false",
      "--metrics-enabled=false",
      "--tracing-enabled=false",
      "--log-level=warn,org.keycloak.services:info,io.quarkus:info",
    ],
    {
      cwd: KEYCLOAK_HOME,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
        KC_BOOTSTRAP_ADMIN_PASSWORD: "stepup-test-admin",
        JAVA_OPTS_APPEND: "-Xms128m -Xmx768m -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true",
      },
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const issuer = `http://127.0.0.1:${port}/realms/stepup`;
  const stop = stopper(child);
  try {
    await serving(`${issuer}/.well-known/openid-configuration`, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, issuer, startedInSec: (Date.now() - started) / 1000, output: () => output, stop };
}

async function serving(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Keycloak exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-4000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Keycloak did not serve ${url} within ${STARTUP_MS / 1000} s:\n${output().slice(-4000)}`);
}

/** Stops the process group started for Keycloak (kc.sh and its JVM): TERM, then KILL after 20 s. */
function stopper(child: ChildProcess): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= new Promise<void>((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolveStop();
      const group = -child.pid;
      const kill = setTimeout(() => {
        try {
          process.kill(group, "SIGKILL");
        } catch {
          // already gone
        }
      }, 20_000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolveStop();
      });
      try {
        process.kill(group, "SIGTERM");
      } catch {
        clearTimeout(kill);
        resolveStop();
      }
    }));
}
