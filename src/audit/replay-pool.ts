/**
 * Replay on every core. The main thread only reads the logs, in chunks of whole lines handed to
 * the threads as bytes, and counts the findings that come back, in log order, into the same
 * tallies in-process replay uses — so the report is the one `verify` and `whatIf` give, and so
 * is the first error. Each revision is compiled once, in the main thread, and its module shared
 * with the threads that ask for it.
 */
import { open, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { Bundle } from "../bundle/load.js";
import { requestId, IN_FLIGHT, Threads, workerScript, type AskHandler } from "../engine/threads.js";
import { WasmEngine } from "../engine/wasm.js";
import { LogInvalidError } from "../errors.js";
import { expandLogPaths, readLogChunks, readLogEvents } from "./read-log.js";
import {
  RevisionEngines, verify, VerifyTally, whatIf, WhatIfTally,
  type RevisionSource, type VerifyFinding, type VerifyReport, type WhatIfFinding, type WhatIfReport,
} from "./replay.js";
import type { ReplayError, ReplayReply, ReplayRequest, ReplaySetup, RevisionAnswer, RevisionAsk } from "./replay-worker.js";

export interface ReplayOptions {
  /** Changed decisions to list in the report. */
  readonly examples?: number;
  /**
   * Threads; with 1, the logs are replayed in this thread. By default one per core for logs of
   * `THREADS_FROM_BYTES` or more (and for stdin), else 1: starting threads costs about half a
   * second, which smaller logs do not win back.
   */
  readonly threads?: number;
}

/**
 * Where threads start to pay: about 12,000 events of ~1.7 KB on a 2-core machine (20,000 events
 * took 1.8–1.9 s on two threads against 2.3–2.5 s in-process; 6,000 took 1.2 s against 0.9 s).
 */
export const THREADS_FROM_BYTES = 20 * 1024 * 1024;

/**
 * The threads to use for the logs at these paths when the caller does not say: the size of the
 * uncompressed logs decides (a gzip file's size is read from its trailer).
 */
export async function defaultThreads(paths: readonly string[]): Promise<number> {
  const cores = availableParallelism();
  if (cores <= 1) return 1;
  let bytes = 0;
  for (const file of await expandLogPaths(paths)) {
    if (file === "-") return cores;
    bytes += await uncompressedSize(file);
    if (bytes >= THREADS_FROM_BYTES) return cores;
  }
  return 1;
}

/** A file's size, or for gzip its trailer's ISIZE: the uncompressed size (of the last member, modulo 4 GiB). */
async function uncompressedSize(file: string): Promise<number> {
  const { size } = await stat(file);
  if (!file.endsWith(".gz") || size < 18) return size;
  const handle = await open(file, "r");
  try {
    const trailer = Buffer.alloc(4);
    await handle.read(trailer, 0, 4, size - 4);
    return trailer.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

/** `verify` over log files, on threads: re-evaluates every event on its own revision. */
export async function verifyLogs(paths: readonly string[], source: RevisionSource, options: ReplayOptions = {}): Promise<VerifyReport> {
  const size = options.threads ?? (await defaultThreads(paths));
  if (size <= 1) return verify(readLogEvents(paths), source, options);
  const engines = new RevisionEngines(source);
  // A revision whose bundle did not load is the run's error, thrown where in-process replay throws it.
  const failures = new Map<string, unknown>();
  const onAsk: AskHandler = (ask, reply) => {
    const { revision } = ask as RevisionAsk;
    engines.get(revision).then(
      (loaded) => reply({ revision, engine: loaded ? WasmEngine.transfer(loaded.bundle, loaded.engine.module) : null } satisfies RevisionAnswer),
      (err: unknown) => {
        failures.set(revision, err);
        reply({ revision, failed: true } satisfies RevisionAnswer);
      },
    );
  };
  const tally = new VerifyTally(options.examples);
  await replayOnThreads(paths, { mode: "verify" }, size, onAsk, failures, (f) => tally.add(f as VerifyFinding));
  return tally.report();
}

/** `whatIf` over log files, on threads: evaluates every event's input on a candidate bundle. */
export async function whatIfLogs(paths: readonly string[], candidate: Bundle, options: ReplayOptions = {}): Promise<WhatIfReport> {
  const size = options.threads ?? (await defaultThreads(paths));
  if (size <= 1) return whatIf(readLogEvents(paths), candidate, options);
  const engine = await WasmEngine.load(candidate);
  const setup: ReplaySetup = { mode: "what-if", candidate: WasmEngine.transfer(candidate, engine.module) };
  const tally = new WhatIfTally(candidate.revision, options.examples);
  await replayOnThreads(paths, setup, size, undefined, new Map(), (f) => tally.add(f as WhatIfFinding));
  return tally.report();
}

async function replayOnThreads(
  paths: readonly string[],
  setup: ReplaySetup,
  size: number,
  onAsk: AskHandler | undefined,
  failures: ReadonlyMap<string, unknown>,
  add: (finding: VerifyFinding | WhatIfFinding) => void,
): Promise<void> {
  const threads = await Threads.start(workerScript("replay-worker", import.meta.url), setup, { size, name: "replay pool", onAsk });
  // Chunks handed out and not yet counted, in log order; a few per thread, so reading stays ahead
  // of the threads without holding the whole log.
  const pending: Promise<ReplayReply>[] = [];
  const count = async () => {
    const reply = await pending.shift()!;
    for (const finding of reply.findings) add(finding);
    if (reply.error) throw replayError(reply.error, failures);
  };
  try {
    for await (const chunk of readLogChunks(paths)) {
      // The chunk's own copy, whose buffer can be transferred.
      const request: ReplayRequest = { id: requestId(), file: chunk.file, first: chunk.first, bytes: new Uint8Array(chunk.bytes) };
      const reply = threads.run<ReplayReply>(request, [request.bytes.buffer as ArrayBuffer]);
      // Counted in order below; a later chunk's failure must not go unhandled meanwhile.
      reply.catch(() => {});
      pending.push(reply);
      if (pending.length > threads.size * IN_FLIGHT) await count();
    }
    while (pending.length > 0) await count();
  } finally {
    await threads.close();
  }
}

function replayError(error: ReplayError, failures: ReadonlyMap<string, unknown>): unknown {
  if (error.code === "ERR_LOG_INVALID") return new LogInvalidError(error.file, error.line, error.issues);
  return failures.get(error.revision);
}
