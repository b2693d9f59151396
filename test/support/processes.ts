/**
 * Real servers for the fleet test, started as plain processes on loopback ports and stopped by
 * the test (also when it fails): nginx from Debian's packages serving a bundle folder with ETags
 * and a bearer-token check, and the pinned OPA polling it as a sidecar would. Neither is ever
 * skipped: a machine without nginx fails with the command that installs it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { accepts, freePort } from "./ports.js";

export interface Running {
  readonly url: string;
  readonly port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** nginx's binary: on the PATH or where Debian puts it. */
export function nginxBinary(): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat("/usr/sbin")) {
    if (dir && existsSync(join(dir, "nginx"))) return join(dir, "nginx");
  }
  throw new Error("nginx is not installed: run `apt-get install -y nginx-light` (.ci/run does) and try again");
}

/**
 * nginx serving `root` under /bundles/ on a free loopback port: static files with ETags (built
 * from mtime and size) and 304s, refusing requests without `Authorization: Bearer <token>`.
 */
export async function startNginx(root: string, token: string, dir: string): Promise<Running & { accessLog(): Promise<string> }> {
  const port = await freePort();
  await mkdir(join(dir, "temp"), { recursive: true });
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `daemon off;
master_process off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 512; }
http {
  log_format bundles '$status $request_method $uri inm="$http_if_none_match"';
  access_log ${join(dir, "access.log")} bundles;
  client_body_temp_path ${join(dir, "temp")};
  proxy_temp_path ${join(dir, "temp")};
  fastcgi_temp_path ${join(dir, "temp")};
  uwsgi_temp_path ${join(dir, "temp")};
  scgi_temp_path ${join(dir, "temp")};
  default_type application/gzip;
  server {
    listen 127.0.0.1:${port};
    etag on;
    location /bundles/ {
      if ($http_authorization != "Bearer ${token}") { return 401; }
      alias ${root}/;
    }
  }
}
`,
  );
  const child = spawn(nginxBinary(), ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"] });
  const running = await supervise(child, "nginx", port, () => readFile(join(dir, "error.log"), "utf8").catch(() => ""));
  return { ...running, accessLog: () => readFile(join(dir, "access.log"), "utf8") };
}

/** The pinned OPA as a server (`opa run --server`) with a configuration file, on a free loopback port. */
export async function startOpa(config: string, dir: string): Promise<Running> {
  const port = await freePort();
  const file = join(dir, "opa-config.yaml");
  await writeFile(file, config);
  const args = ["run", "--server", "--skip-version-check", "--addr", `127.0.0.1:${port}`, "--config-file", file, "--log-format", "json", "--log-level", "info"];
  const child = spawn(opaBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  return supervise(child, "opa", port);
}

/** Collects a child's output, waits until its port accepts connections, and stops it with SIGTERM (SIGKILL after 5 s). */
async function supervise(child: ChildProcess, name: string, port: number, extra?: () => Promise<string>): Promise<Running> {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (gone) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not start on 127.0.0.1:${port}: ${output}${extra ? await extra() : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, port, output: () => output, stop };
}
