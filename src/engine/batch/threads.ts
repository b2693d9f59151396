/**
 * Worker threads that answer requests in order, the machinery under the decision pool (pool.ts)
 * and the replay pool (src/audit/replay-pool.ts). Each thread gets a setup message once, then
 * requests; it answers each with a message carrying the request's `id`, or first asks the main
 * thread something (a message with `ask`), which the owner answers through `onAsk`. A few
 * requests are in flight per thread so that no thread idles while the main thread hands out work.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import type { Worker } from "node:worker_threads";
import { EngineEvaluationError, PoolClosedError } from "../../errors.js";
import { workerThreads } from "../../lazy.js";

/** A question from a thread: a message with `ask`, answered with `reply(message)`. */
export type AskHandler = (ask: unknown, reply: (message: unknown) => void) => void;

export interface ThreadsOptions {
  readonly size: number;
  /** What the threads' scripts are called for, in error messages ("decision pool"). */
  readonly name: string;
  readonly onAsk?: AskHandler;
}

interface Job {
  readonly message: { readonly id: number };
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Requests sent and not yet answered, oldest first (a thread answers in order). */
  readonly jobs: Job[];
}

/**
 * Requests in flight per thread: the next one waits in the thread's own queue, so a thread never
 * idles while the main thread is busy handing out work or reading answers.
 */
export const IN_FLIGHT = 2;

/**
 * The most threads a pool starts: one per core (two on a one-core machine). The work is CPU-bound,
 * so more gain nothing, and each costs a V8 isolate and an instance of the policy: 10,000 asked
 * for once grew a process to 12 GB before it died.
 */
export function maxThreads(): number {
  return Math.max(2, availableParallelism());
}

let nextId = 0;

/** A fresh request id, unique in this process. */
export function requestId(): number {
  return nextId++;
}

export class Threads {
  private readonly queue: Job[] = [];
  private closed = false;

  private constructor(private readonly threads: Thread[], private readonly options: ThreadsOptions) {
    for (const thread of threads) {
      thread.worker.on("message", (message: { id?: number; ask?: unknown }) => {
        if ("ask" in message) options.onAsk?.(message.ask, (answer) => thread.worker.postMessage(answer));
        else this.settle(thread, message);
      });
      thread.worker.on("error", (err) => this.fail(thread, err));
      thread.worker.on("exit", (code) => this.fail(thread, new Error(`exited with code ${code}`)));
    }
  }

  /**
   * Starts `options.size` threads of a script (at least one, at most `maxThreads()`) and sends each
   * the setup message; all start or none.
   */
  static async start(script: URL, setup: unknown, options: ThreadsOptions): Promise<Threads> {
    const size = Math.min(Math.max(1, options.size), maxThreads());
    const started = await Promise.allSettled(Array.from({ length: size }, () => startThread(script, setup, options.name)));
    const threads = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      // No half-started pool: the threads that did start stop again.
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
      throw failed.reason;
    }
    return new Threads(threads, options);
  }

  /** How many threads answer. */
  get size(): number {
    return this.threads.length;
  }

  /** Whether a request now would wait: every thread has its fill in flight, or requests queue. */
  get saturated(): boolean {
    return this.queue.length > 0 || this.threads.every((thread) => thread.jobs.length >= IN_FLIGHT);
  }

  /** Sends a request to the next free thread; resolves with its answer. Buffers in `transfer` move, not copy. */
  run<Reply>(message: { readonly id: number }, transfer: readonly ArrayBuffer[] = []): Promise<Reply> {
    if (this.closed) return Promise.reject(new PoolClosedError(`the ${this.options.name} is closed`));
    const done = new Promise<Reply>((resolve, reject) => {
      this.queue.push({ message, transfer, resolve: resolve as (reply: unknown) => void, reject });
    });
    this.dispatch();
    return done;
  }

  /**
   * Sends one request to every thread at once, ahead of the queue (each answers it in its turn);
   * resolves with their answers in thread order. For work the threads share out among themselves.
   */
  runOnEach<Reply, Message extends { readonly id: number } = { readonly id: number }>(message: Message): Promise<Reply[]> {
    if (this.closed) return Promise.reject(new PoolClosedError(`the ${this.options.name} is closed`));
    return Promise.all(
      this.threads.map(
        (thread) =>
          new Promise<Reply>((resolve, reject) => {
            send(thread, { message, transfer: [], resolve: resolve as (reply: unknown) => void, reject });
          }),
      ),
    );
  }

  /** Stops the threads; requests still queued or in flight are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = () => new PoolClosedError(`the ${this.options.name} was closed`);
    for (const job of this.queue.splice(0)) job.reject(closed());
    for (const thread of this.threads) for (const job of thread.jobs.splice(0)) job.reject(closed());
    await Promise.all(this.threads.map(({ worker }) => worker.terminate()));
  }

  private dispatch(): void {
    for (let round = 0; round < IN_FLIGHT; round++) {
      for (const thread of this.threads) {
        if (thread.jobs.length >= IN_FLIGHT || this.queue.length === 0) continue;
        send(thread, this.queue.shift()!);
      }
    }
  }

  private settle(thread: Thread, reply: unknown): void {
    const job = thread.jobs.shift();
    if (thread.jobs.length === 0) thread.worker.unref();
    job?.resolve(reply);
    this.dispatch();
  }

  private fail(thread: Thread, err: Error): void {
    if (this.closed) return;
    for (const job of thread.jobs.splice(0)) {
      job.reject(new EngineEvaluationError(`a ${this.options.name} thread failed: ${err.message}`, { cause: err }));
    }
    // A thread that failed takes no more work; the others carry on, and with none left the pool closes.
    this.threads.splice(this.threads.indexOf(thread), 1);
    if (this.threads.length === 0) void this.close();
  }
}

/** Sends a job to a thread, which holds the process open until it has answered. */
function send(thread: Thread, job: Job): void {
  thread.jobs.push(job);
  thread.worker.ref();
  thread.worker.postMessage(job.message, job.transfer);
}

/**
 * A thread's script: `<name>.js` next to the built bundle that starts it (dist/) or, when running
 * from the TypeScript sources (tests, tsx), the source behind tsx's loader. `from` is the caller's
 * `import.meta.url`; the worker's source sits beside the caller's.
 */
export function workerScript(name: string, from: string): URL {
  if (!from.endsWith(".ts")) return new URL(`./${name}.js`, from);
  return typescriptWorker(new URL(`./${name}.ts`, from));
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

function startThread(script: URL, setup: unknown, name: string): Promise<Thread> {
  const worker = new (workerThreads().Worker)(script);
  return new Promise((resolve, reject) => {
    // Only these two listeners come off: Worker keeps listeners of its own on itself.
    const failed = (err: Error) => reject(new EngineEvaluationError(`a ${name} thread did not start: ${err.message}`, { cause: err }));
    worker.once("message", () => {
      worker.off("error", failed);
      worker.unref();
      resolve({ worker, jobs: [] });
    });
    worker.once("error", failed);
    worker.postMessage(setup);
  });
}
