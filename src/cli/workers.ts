/**
 * One server on every core: `stepup envoy serve --workers N` forks N processes with node:cluster,
 * each loading the bundle and serving on the same port (the primary hands connections out in
 * turn), because one Node process decides on one core. The primary only starts the workers, says
 * where they listen, and stops them on SIGTERM or SIGINT; a worker that dies takes the others down
 * with it, so a supervisor sees the failure instead of a server quietly short of capacity.
 */
import cluster from "node:cluster";

/** What a worker tells the primary once it listens. */
interface Listening {
  readonly stepupListening: number;
  readonly line: string;
}

/** Whether this process is a worker the primary forked (it then serves and reports through `listening`). */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary the port and the line it would have printed. */
export function reportListening(port: number, line: string): void {
  process.send?.({ stepupListening: port, line } satisfies Listening);
}

/**
 * In the primary: forks `count` workers running this same command, prints the first worker's line
 * with the count once all listen, and resolves when they have all exited after a stop signal.
 */
export async function runWorkers(count: number): Promise<void> {
  const workers = Array.from({ length: count }, () => cluster.fork());
  let stopping = false;
  const exited = Promise.all(workers.map((w) => new Promise<number | null>((resolve) => w.once("exit", (code) => resolve(code)))));
  const stop = () => {
    stopping = true;
    for (const w of workers) if (!w.isDead()) w.process.kill("SIGTERM");
  };
  for (const w of workers) {
    w.once("exit", (code, signal) => {
      if (stopping) return;
      process.stderr.write(`stepup ext_authz worker ${w.process.pid} exited (${signal ?? code}); stopping the others\n`);
      process.exitCode = 1;
      stop();
    });
  }
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const lines = await Promise.all(
    workers.map(
      (w) =>
        new Promise<string | null>((resolve) => {
          w.on("message", (m: Partial<Listening>) => {
            if (typeof m?.stepupListening === "number" && typeof m.line === "string") resolve(m.line);
          });
          w.once("exit", () => resolve(null));
        }),
    ),
  );
  const first = lines.find((l) => l !== null);
  if (first && lines.every((l) => l !== null)) process.stdout.write(`${first} on ${count} workers\n`);
  await exited;
}
