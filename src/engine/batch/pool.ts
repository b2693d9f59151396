/**
 * Deciding many inputs at once on every core, for batch work such as replaying decision logs or
 * simulating a tuning change over a corpus. The module is compiled once and shared with each
 * worker thread (a `WebAssembly.Module` crosses threads without being compiled again); each thread
 * decides whole batches exactly as `Stepup.decide` does, and the decisions come back in order.
 */
import { availableParallelism } from "node:os";
import type { Bundle } from "../../bundle/load.js";
import type { Decision } from "../../contracts/decision.js";
import { EngineEvaluationError, InputInvalidError, InputNotJsonError, PoolClosedError, type Issue } from "../../errors.js";
import type { PoolReply, PoolRequest, PoolSetup } from "./pool-worker.js";
import { answerBuffer, atIndex, KeptBuffer, type LinesOptions } from "./ndjson.js";
import { guidedBatch, shareLines } from "./shared-lines.js";
import { IN_FLIGHT, requestId, Threads, workerScript } from "./threads.js";
import { WasmEngine } from "../inprocess/wasm.js";

export interface PoolOptions {
  /** Threads; one per core by default, and never more than `maxThreads()` (one per core, two on a one-core machine). */
  readonly size?: number;
  /** Inputs handed to a thread at a time: larger batches spread the hand-over cost thinner. */
  readonly batchSize?: number;
  /** The threads' engines' fast paths (`StepupOptions.fastPaths`); on by default. */
  readonly fastPaths?: boolean;
}

/** Worker threads deciding batches with one bundle; from `Stepup.pool()`. Close it when done. */
export class DecisionPool {
  private closed = false;
  /** The last call's shared input, kept for the next. */
  private readonly spareInput = new KeptBuffer<SharedArrayBuffer>();

  private constructor(private readonly threads: Threads, private readonly batchSize: number) {}

  /** Starts the threads for a bundle whose module is already compiled. */
  static async start(bundle: Bundle, module: WebAssembly.Module, options: PoolOptions = {}): Promise<DecisionPool> {
    const setup: PoolSetup = { ...WasmEngine.transfer(bundle, module, { fastPaths: options.fastPaths }), codes: bundle.metadata.codes };
    const size = options.size ?? availableParallelism();
    const threads = await Threads.start(workerScript("pool-worker", import.meta.url), setup, { size, name: "decision pool" });
    return new DecisionPool(threads, Math.max(1, options.batchSize ?? 128));
  }

  /** How many threads decide. */
  get size(): number {
    return this.threads.size;
  }

  /**
   * Decides every input, in order. Rejects with `InputInvalidError` when an input breaks the
   * contract — its issues' paths start with the input's index, e.g. `[12].session.auth_time`.
   */
  async decideMany(inputs: readonly unknown[]): Promise<Decision[]> {
    if (this.closed) throw new PoolClosedError("the decision pool is closed");
    const batches: Promise<string>[] = [];
    for (let start = 0; start < inputs.length; ) {
      const end = start + this.nextBatch(inputs.length - start);
      batches.push(this.submit({ id: requestId(), inputs: inputs.slice(start, end) }, start));
      start = end;
    }
    return (await Promise.all(batches)).flatMap((text) => JSON.parse(text) as Decision[]);
  }

  /**
   * Decides newline-delimited JSON input documents (blank lines skipped) and answers with one
   * decision per document as NDJSON, in order: the shape of decision logs. Text in, text out;
   * bytes (UTF-8, as read from a file) in, bytes out. Errors name the line (0-based) as `[line]`
   * in issue paths: the first bad line of the whole call.
   *
   * The main thread's every cycle on two cores is one the threads do not get, and what it does
   * before the threads start or after they finish holds them all up: it copies the bytes once
   * into memory the threads share (kept between calls) and picks where chunks of them end; the
   * threads take the chunks in turn from a shared counter and find their lines, then each copies
   * its answers to their place in the output, at once. Bytes come back as a Buffer over that
   * shared memory: fresh, or with `into` the memory of earlier answers.
   */
  decideLines(ndjson: string): Promise<string>;
  decideLines(ndjson: Uint8Array, options?: LinesOptions): Promise<Buffer>;
  decideLines(ndjson: string | Uint8Array, options?: LinesOptions): Promise<string | Buffer>;
  async decideLines(ndjson: string | Uint8Array, options: LinesOptions = {}): Promise<string | Buffer> {
    if (this.closed) throw new PoolClosedError("the decision pool is closed");
    const text = typeof ndjson === "string";
    const length = text ? Buffer.byteLength(ndjson) : ndjson.length;
    if (length === 0) return text ? "" : Buffer.alloc(0);
    const input = this.spareInput.take(length) ?? new SharedArrayBuffer(length);
    const bytes = Buffer.from(input, 0, length);
    if (text) bytes.write(ndjson);
    else bytes.set(ndjson);
    const lines = shareLines(bytes, this.batchSize, this.threads.size);
    const call = requestId();
    const replies = await this.threads.runOnEach<PoolReply, PoolRequest>({ id: call, lines });
    // Every thread has answered, so none reads the input any more.
    this.spareInput.give(input);
    let placed: ReturnType<typeof place>;
    try {
      placed = place(replies, new Float64Array(lines.cuts).length - 1);
    } catch (err) {
      await this.threads.runOnEach<PoolReply, PoolRequest>({ id: requestId(), copy: { call } });
      throw err;
    }
    const answers = answerBuffer(placed.total, text ? undefined : options.into, true);
    const output = answers.buffer as SharedArrayBuffer;
    const copied = await this.threads.runOnEach<PoolReply, PoolRequest>({ id: requestId(), copy: { call, output, offsets: placed.offsets } });
    const failed = copied.find((reply) => "error" in reply);
    if (failed) throw rebuild(failed);
    return text ? answers.toString("utf8") : answers;
  }

  private nextBatch(remaining: number): number {
    return guidedBatch(remaining, this.batchSize, IN_FLIGHT * this.threads.size);
  }

  /** Stops the threads; batches still queued are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await this.threads.close();
  }

  private async submit(request: PoolRequest, start: number): Promise<string> {
    const reply = await this.threads.run<PoolReply>(request);
    if ("decisions" in reply) return reply.decisions;
    if ("error" in reply) throw rebuild(reply, start);
    throw new EngineEvaluationError("a pool thread answered a batch of documents with lines");
  }
}

/**
 * Where each chunk's answers go in the output (Float64s in shared memory, by chunk) and the
 * output's length; or the error of the first bad line any thread met (every chunk before its
 * chunk was decided, so it is the first of the whole call).
 */
function place(replies: readonly PoolReply[], chunks: number): { offsets: SharedArrayBuffer; total: number } {
  const failed = replies.filter((reply): reply is Extract<PoolReply, { error: unknown }> => "error" in reply).sort((a, b) => a.index - b.index);
  if (failed.length > 0) throw rebuild(failed[0]!);
  const lengths = new Float64Array(chunks).fill(-1);
  for (const reply of replies) {
    if (!("taken" in reply)) throw new EngineEvaluationError("a pool thread answered shared lines with something else");
    for (let i = 0; i < reply.taken.length; i += 2) lengths[reply.taken[i]!] = reply.taken[i + 1]!;
  }
  const offsets = new Float64Array(new SharedArrayBuffer(chunks * Float64Array.BYTES_PER_ELEMENT));
  let total = 0;
  for (let chunk = 0; chunk < chunks; chunk++) {
    if (lengths[chunk]! < 0) throw new EngineEvaluationError(`chunk ${chunk} of ${chunks} of lines came back from no thread`);
    offsets[chunk] = total;
    total += lengths[chunk]!;
  }
  return { offsets: offsets.buffer as SharedArrayBuffer, total };
}

/** The error a thread met, at its input's index in the whole call (`[12].now`). */
function rebuild(reply: Extract<PoolReply, { error: unknown }>, start = 0): Error {
  const { code, message, issues } = reply.error;
  if (code === "ERR_INPUT_INVALID" && Array.isArray(issues)) return atIndex(new InputInvalidError(issues as Issue[]), start + reply.index) as Error;
  if (code === "ERR_INPUT_NOT_JSON") return new InputNotJsonError(message);
  return new EngineEvaluationError(message);
}
