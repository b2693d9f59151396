/**
 * Deciding many inputs at once on every core, for batch work such as replaying decision logs or
 * simulating a tuning change over a corpus. The module is compiled once and shared with each
 * worker thread (a `WebAssembly.Module` crosses threads without being compiled again); each thread
 * decides whole batches exactly as `Stepup.decide` does, and the decisions come back in order.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Bundle } from "../bundle/load.js";
import type { Decision } from "../contracts/decision.js";
import { EngineEvaluationError, InputInvalidError, InputNotJsonError, PoolClosedError, type Issue } from "../errors.js";
import type { PoolReply, PoolRequest, PoolSetup } from "./pool-worker.js";

export interface PoolOptions {
  /** Threads; one per core by default. */
  readonly size?: number;
  /** Inputs handed to a thread at a time: larger batches spread the hand-over cost thinner. */
  readonly batchSize?: number;
}

interface Job {
  readonly request: PoolRequest;
  readonly resolve: (decisions: string | Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Batches sent and not yet answered, oldest first (a thread answers in order). */
  readonly jobs: Job[];
}

/**
 * Batches in flight per thread: the next one waits in the thread's own queue, so a thread never
 * idles while the main thread is busy handing out work or reading answers.
 */
const IN_FLIGHT = 2;

const NEWLINE = 0x0a;

let nextId = 0;

/** Worker threads deciding batches with one bundle; from `Stepup.pool()`. Close it when done. */
export class DecisionPool {
  private readonly queue: Job[] = [];
  private closed = false;

  private constructor(private readonly threads: Thread[], private readonly batchSize: number) {
    for (const thread of threads) {
      thread.worker.on("message", (reply: PoolReply) => this.settle(thread, reply));
      thread.worker.on("error", (err) => this.fail(thread, err));
      thread.worker.on("exit", (code) => this.fail(thread, new Error(`exited with code ${code}`)));
    }
  }

  /** Starts the threads for a bundle whose module is already compiled. */
  static async start(bundle: Bundle, module: WebAssembly.Module, options: PoolOptions = {}): Promise<DecisionPool> {
    const size = Math.max(1, options.size ?? availableParallelism());
    const setup: PoolSetup = {
      module,
      data: JSON.stringify(bundle.data),
      entrypoint: bundle.entrypoint,
      revision: bundle.revision,
      source: bundle.source,
      codes: bundle.metadata.codes,
    };
    const started = await Promise.allSettled(Array.from({ length: size }, () => startThread(setup)));
    const threads = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      // No half-started pool: the threads that did start stop again.
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
      throw failed.reason;
    }
    return new DecisionPool(threads, Math.max(1, options.batchSize ?? 128));
  }

  /** How many threads decide. */
  get size(): number {
    return this.threads.length;
  }

  /**
   * Decides every input, in order. Rejects with `InputInvalidError` when an input breaks the
   * contract — its issues' paths start with the input's index, e.g. `[12].session.auth_time`.
   */
  async decideMany(inputs: readonly unknown[]): Promise<Decision[]> {
    if (this.closed) throw new PoolClosedError("the decision pool is closed");
    const batches: Promise<string>[] = [];
    for (let start = 0; start < inputs.length; start += this.batchSize) {
      const slice = inputs.slice(start, start + this.batchSize);
      batches.push(this.submit({ id: nextId++, inputs: slice }, start) as Promise<string>);
    }
    return (await Promise.all(batches)).flatMap((text) => JSON.parse(text) as Decision[]);
  }

  /**
   * Decides newline-delimited JSON input documents (blank lines skipped) and answers with one
   * decision per document as NDJSON, in order: the shape of decision logs. Text in, text out;
   * bytes (UTF-8, as read from a file) in, bytes out. Bytes are the cheaper way for the main
   * thread, whose every cycle on two cores is one the threads do not get: each batch's bytes and
   * its answer's cross in buffers handed over without a copy, and the threads decode and encode.
   * Errors name the line (0-based) as `[line]` in issue paths.
   */
  decideLines(ndjson: string): Promise<string>;
  decideLines(ndjson: Uint8Array): Promise<Buffer>;
  decideLines(ndjson: string | Uint8Array): Promise<string | Buffer>;
  async decideLines(ndjson: string | Uint8Array): Promise<string | Buffer> {
    if (this.closed) throw new PoolClosedError("the decision pool is closed");
    const text = typeof ndjson === "string";
    const { length } = ndjson;
    const batches: Promise<string | Uint8Array>[] = [];
    let start = 0;
    let line = 0;
    while (start < length) {
      let end = start;
      let lines = 0;
      while (lines < this.batchSize && end < length) {
        const at = text ? ndjson.indexOf("\n", end) : ndjson.indexOf(NEWLINE, end);
        end = at < 0 ? length : at + 1;
        lines++;
      }
      // Bytes go as the batch's own copy, whose buffer can be transferred (a newline byte is never inside a character).
      const batch = text ? ndjson.slice(start, end) : new Uint8Array(ndjson.subarray(start, end));
      batches.push(this.submit({ id: nextId++, lines: batch, first: line }, 0));
      line += lines;
      start = end;
    }
    const answers = await Promise.all(batches);
    return text ? answers.join("") : Buffer.concat(answers as Uint8Array[]);
  }

  /** Stops the threads; batches still queued are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PoolClosedError("the decision pool was closed"));
    await Promise.all(this.threads.map(({ worker }) => worker.terminate()));
  }

  private submit(request: PoolRequest, start: number): Promise<string | Uint8Array> {
    if (this.closed) return Promise.reject(new PoolClosedError("the decision pool is closed"));
    const done = new Promise<string | Uint8Array>((resolve, reject) => {
      this.queue.push({ request, resolve, reject: (err) => reject(offset(err, start)) });
    });
    this.dispatch();
    return done;
  }

  private dispatch(): void {
    for (let round = 0; round < IN_FLIGHT; round++) {
      for (const thread of this.threads) {
        if (thread.jobs.length >= IN_FLIGHT || this.queue.length === 0) continue;
        const job = this.queue.shift()!;
        thread.jobs.push(job);
        thread.worker.ref();
        const { lines } = job.request as { lines?: unknown };
        thread.worker.postMessage(job.request, lines instanceof Uint8Array ? [lines.buffer as ArrayBuffer] : []);
      }
    }
  }

  private settle(thread: Thread, reply: PoolReply): void {
    const job = thread.jobs.shift();
    if (thread.jobs.length === 0) thread.worker.unref();
    if (job) {
      if ("decisions" in reply) job.resolve(reply.decisions);
      else job.reject(rebuild(reply));
    }
    this.dispatch();
  }

  private fail(thread: Thread, err: Error): void {
    if (this.closed) return;
    for (const job of thread.jobs.splice(0)) {
      job.reject(new EngineEvaluationError(`a decision pool thread failed: ${err.message}`, { cause: err }));
    }
    // A thread that failed takes no more work; the others carry on, and with none left the pool closes.
    this.threads.splice(this.threads.indexOf(thread), 1);
    if (this.threads.length === 0) void this.close();
  }
}

/**
 * The thread's script: dist/pool-worker.js next to the built bundle that imports this module or,
 * when running from the TypeScript sources (tests, tsx), the source behind tsx's loader.
 */
function workerScript(): URL {
  if (!import.meta.url.endsWith(".ts")) return new URL("./pool-worker.js", import.meta.url);
  return typescriptWorker(new URL("./pool-worker.ts", import.meta.url));
}

/**
 * A worker script that registers tsx's loader and then imports a TypeScript module, for threads
 * started from the sources (the tests' own worker threads use it too).
 * @internal
 */
export function typescriptWorker(source: URL): URL {
  // tsx's ESM API, found through its package.json exports (a data: URL cannot resolve packages).
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (require("tsx/package.json") as { exports: Record<string, { import: { default: string } }> }).exports;
  const api = new URL(exports["./esm/api"]!.import.default, pathToFileURL(manifest)).href;
  const boot = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(source.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

function startThread(setup: PoolSetup): Promise<Thread> {
  const worker = new Worker(workerScript());
  return new Promise((resolve, reject) => {
    // Only these two listeners come off: Worker keeps listeners of its own on itself.
    const failed = (err: Error) => reject(new EngineEvaluationError(`a decision pool thread did not start: ${err.message}`, { cause: err }));
    worker.once("message", () => {
      worker.off("error", failed);
      worker.unref();
      resolve({ worker, jobs: [] });
    });
    worker.once("error", failed);
    worker.postMessage(setup);
  });
}

function rebuild(reply: Extract<PoolReply, { error: unknown }>): Error {
  const { code, message, issues } = reply.error;
  if (code === "ERR_INPUT_INVALID" && Array.isArray(issues)) {
    return new InputInvalidError((issues as Issue[]).map((issue) => ({ ...issue, path: `[${reply.index}]${issue.path ? `.${issue.path}` : ""}` })));
  }
  if (code === "ERR_INPUT_NOT_JSON") return new InputNotJsonError(message);
  return new EngineEvaluationError(message);
}

/** The error with input indexes counted from the start of the whole call, not the batch. */
function offset(err: Error, start: number): Error {
  if (!(err instanceof InputInvalidError) || start === 0) return err;
  return new InputInvalidError(err.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^\[(\d+)\]/, (_, i: string) => `[${Number(i) + start}]`) })));
}
