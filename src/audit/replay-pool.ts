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
import { requestId, Threads, workerScript, type AskHandler } from "../engine/batch/threads.js";
import { WasmEngine } from "../engine/inprocess/wasm.js";
import { LogInvalidError } from "../errors.js";
import type { EdgeMapper } from "./edge-replay.js";
import { policyReads } from "./policy-reads.js";
import { expandLogPaths, parseLogChunk, readLogChunks, readLogEvents, type LogChunk } from "./read-log.js";
import {
  RevisionEngines, verify, verifyFindings, VerifyTally, whatIf, whatIfFindings, WhatIfTally,
  type RevisionSource, type VerifyFinding, type VerifyReport, type WhatIfFinding, type WhatIfReport,
} from "./replay.js";
import type { ReplayError, ReplayReply, ReplayRequest, ReplaySetup, RevisionAnswer, RevisionAsk } from "./replay-worker.js";

export interface ReplayOptions {
  /** Changed decisions to list in the report. */
  readonly examples?: number;
  /**
   * Threads; with 1, the logs are replayed in this thread. By default one per core for logs of
   * `THREADS_FROM_BYTES` or more (and for stdin), else 1: starting threads costs about half a
   * second, which smaller logs do not win back. Never more than `maxThreads()` threads start (one
   * per core, two on a one-core machine).
   */
  readonly threads?: number;
  /**
   * Whether the main thread replays chunks too when the threads have their fill (the default):
   * on two cores it is then the second replayer rather than a reader that mostly waits, and it
   * works while the threads start. `false` leaves it only reading and counting, so that its event
   * loop stays free (a service replaying in the background), at some cost in throughput.
   */
  readonly mainThreadReplays?: boolean;
  /**
   * The edge settings opa-envoy-plugin decided with (`data.stepup_envoy`), to replay its
   * decisions through the edge mapping; without them those decisions are unreplayable. Edge
   * decisions are replayed in the main thread (mapping verifies tokens asynchronously).
   */
  readonly edge?: EdgeMapper;
  /** Called for each chunk with who replays it. @internal */
  readonly onChunk?: (replayer: "main" | "thread") => void;
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
  const size = options.edge ? 1 : (options.threads ?? (await defaultThreads(paths)));
  if (size <= 1) return verify(readLogEvents(paths), source, options);
  const engines = new RevisionEngines(source);
  // A revision whose bundle did not load is the run's error, thrown where in-process replay throws it.
  const failures = new Map<string, unknown>();
  const onAsk: AskHandler = (ask, reply) => {
    const { revision } = ask as RevisionAsk;
    engines.get(revision).then(
      (loaded) => reply({ revision, engine: loaded ? WasmEngine.transfer(loaded.bundle, loaded.engine.module) : null, reads: loaded?.reads ?? [] } satisfies RevisionAnswer),
      (err: unknown) => {
        failures.set(revision, err);
        reply({ revision, failed: true } satisfies RevisionAnswer);
      },
    );
  };
  const local = async (chunk: LogChunk, into: Finding[]) => {
    for await (const finding of verifyFindings(parseLogChunk(chunk), engines)) into.push(finding);
  };
  const tally = new VerifyTally(options.examples);
  await replayOnThreads(paths, { mode: "verify" }, { ...options, size, onAsk, failures, local }, (f) => tally.add(f as VerifyFinding));
  return tally.report();
}

/** `whatIf` over log files, on threads: evaluates every event's input on a candidate bundle. */
export async function whatIfLogs(paths: readonly string[], candidate: Bundle, options: ReplayOptions = {}): Promise<WhatIfReport> {
  const size = options.edge ? 1 : (options.threads ?? (await defaultThreads(paths)));
  if (size <= 1) return whatIf(readLogEvents(paths), candidate, options);
  const engine = await WasmEngine.load(candidate);
  const reads = policyReads(candidate.files);
  const setup: ReplaySetup = { mode: "what-if", candidate: WasmEngine.transfer(candidate, engine.module), reads };
  const local = async (chunk: LogChunk, into: Finding[]) => {
    for await (const finding of whatIfFindings(parseLogChunk(chunk), engine, reads)) into.push(finding);
  };
  const tally = new WhatIfTally(candidate.revision, options.examples);
  await replayOnThreads(paths, setup, { ...options, size, failures: new Map(), local }, (f) => tally.add(f as WhatIfFinding));
  return tally.report();
}

type Finding = VerifyFinding | WhatIfFinding;

interface Replayers extends Pick<ReplayOptions, "mainThreadReplays" | "onChunk"> {
  /** Replayers in all: the main thread and `size - 1` threads, or `size` threads when it does not replay. */
  readonly size: number;
  readonly onAsk?: AskHandler;
  /** Errors behind the threads' `revision` errors, by revision. */
  readonly failures: ReadonlyMap<string, unknown>;
  /** Replays a chunk in the main thread into `into`; throws where in-process replay throws. */
  readonly local: (chunk: LogChunk, into: Finding[]) => Promise<void>;
}

/** A chunk's findings, and the error that stopped it after them; settled once known. */
interface Counted {
  settled: boolean;
  findings: readonly Finding[];
  error?: unknown;
  readonly done: Promise<void>;
}

/**
 * Chunks counted only once every chunk before them is: enough to keep the threads and the main
 * thread busy while one thread's chunk is late, without holding much of the log.
 */
const MAX_PENDING = 64;

/**
 * Replays the logs on threads and, unless told not to, the main thread. The main thread reads the
 * chunks, hands each to a thread that has room, and replays the others itself: it works from the
 * first chunk while the threads start (~0.25 s), and on two cores it is the second replayer rather
 * than a coordinator that mostly waits. Findings are counted in log order.
 */
async function replayOnThreads(paths: readonly string[], setup: ReplaySetup, replayers: Replayers, add: (finding: Finding) => void): Promise<void> {
  const { onAsk, failures, local, onChunk } = replayers;
  const mainReplays = replayers.mainThreadReplays ?? true;
  const size = mainReplays ? replayers.size - 1 : replayers.size;
  let threads: Threads | undefined;
  let startFailed: { error: unknown } | undefined;
  const starting = Threads.start(workerScript("replay-worker", import.meta.url), setup, { size, name: "replay pool", onAsk }).then(
    (started) => void (threads = started),
    (error: unknown) => void (startFailed = { error }),
  );
  const pending: Counted[] = [];
  const countSettled = () => {
    while (pending[0]?.settled) {
      const { findings, error } = pending.shift()!;
      for (const finding of findings) add(finding);
      if (error !== undefined) throw error;
    }
  };
  try {
    for await (const chunk of readLogChunks(paths)) {
      if (!mainReplays && !threads && !startFailed) await starting;
      if (startFailed) throw startFailed.error;
      const toThread = threads !== undefined && (!mainReplays || !threads.saturated);
      onChunk?.(toThread ? "thread" : "main");
      pending.push(toThread ? onThread(threads!, chunk, failures) : await inMain(local, chunk));
      countSettled();
      while (pending.length > MAX_PENDING) {
        await pending[0]!.done;
        countSettled();
      }
    }
    while (pending.length > 0) {
      await pending[0]!.done;
      countSettled();
    }
  } finally {
    await starting;
    await threads?.close();
  }
}

function onThread(threads: Threads, chunk: LogChunk, failures: ReadonlyMap<string, unknown>): Counted {
  // The chunk's own copy, whose buffer can be transferred.
  const request: ReplayRequest = { id: requestId(), file: chunk.file, first: chunk.first, bytes: new Uint8Array(chunk.bytes) };
  const counted: Counted = {
    settled: false,
    findings: [],
    done: threads.run<ReplayReply>(request, [request.bytes.buffer as ArrayBuffer]).then(
      (reply) => {
        counted.findings = reply.findings;
        if (reply.error) counted.error = replayError(reply.error, failures);
        counted.settled = true;
      },
      (error: unknown) => {
        counted.error = error;
        counted.settled = true;
      },
    ),
  };
  return counted;
}

async function inMain(local: Replayers["local"], chunk: LogChunk): Promise<Counted> {
  const findings: Finding[] = [];
  const counted: Counted = { settled: true, findings, done: Promise.resolve() };
  try {
    await local(chunk, findings);
  } catch (error) {
    counted.error = error;
  }
  return counted;
}

function replayError(error: ReplayError, failures: ReadonlyMap<string, unknown>): unknown {
  if (error.code === "ERR_LOG_INVALID") return new LogInvalidError(error.file, error.line, error.issues);
  return failures.get(error.revision);
}
