/**
 * Deciding many inputs at once on every core, for batch work such as replaying decision logs or
 * simulating a tuning change over a corpus. The module is compiled once and shared with each
 * worker thread (a `WebAssembly.Module` crosses threads without being compiled again); each thread
 * decides whole batches exactly as `Stepup.decide` does, and the decisions come back in order.
 */
import { availableParallelism } from "node:os";
import type { Bundle } from "../bundle/load.js";
import type { Decision } from "../contracts/decision.js";
import { EngineEvaluationError, InputInvalidError, InputNotJsonError, PoolClosedError, type Issue } from "../errors.js";
import type { PoolReply, PoolRequest, PoolSetup } from "./pool-worker.js";
import { IN_FLIGHT, requestId, Threads, workerScript } from "./threads.js";
import { WasmEngine } from "./wasm.js";

export interface PoolOptions {
  /** Threads; one per core by default. */
  readonly size?: number;
  /** Inputs handed to a thread at a time: larger batches spread the hand-over cost thinner. */
  readonly batchSize?: number;
}

const NEWLINE = 0x0a;
/** The smallest batch the end of a call is cut into, so that its last hand-overs stay few. */
const MIN_BATCH = 4;

/** Worker threads deciding batches with one bundle; from `Stepup.pool()`. Close it when done. */
export class DecisionPool {
  private closed = false;

  private constructor(private readonly threads: Threads, private readonly batchSize: number) {}

  /** Starts the threads for a bundle whose module is already compiled. */
  static async start(bundle: Bundle, module: WebAssembly.Module, options: PoolOptions = {}): Promise<DecisionPool> {
    const setup: PoolSetup = { ...WasmEngine.transfer(bundle, module), codes: bundle.metadata.codes };
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
      batches.push(this.submit({ id: requestId(), inputs: inputs.slice(start, end) }, start) as Promise<string>);
      start = end;
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
      // Lines left, estimated from the bytes left at the average line length so far.
      const size = line === 0 ? this.batchSize : this.nextBatch(Math.ceil(((length - start) * line) / start));
      while (lines < size && end < length) {
        const at = text ? ndjson.indexOf("\n", end) : ndjson.indexOf(NEWLINE, end);
        end = at < 0 ? length : at + 1;
        lines++;
      }
      // Bytes go as the batch's own copy, whose buffer can be transferred (a newline byte is never inside a character).
      const batch = text ? ndjson.slice(start, end) : new Uint8Array(ndjson.subarray(start, end));
      batches.push(this.submit({ id: requestId(), lines: batch, first: line }, 0));
      line += lines;
      start = end;
    }
    const answers = await Promise.all(batches);
    return text ? answers.join("") : Buffer.concat(answers as Uint8Array[]);
  }

  private nextBatch(remaining: number): number {
    return guidedBatch(remaining, this.batchSize, IN_FLIGHT * this.threads.size);
  }

  /** Stops the threads; batches still queued are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await this.threads.close();
  }

  private async submit(request: PoolRequest, start: number): Promise<string | Uint8Array> {
    const { lines } = request as { lines?: unknown };
    const reply = await this.threads.run<PoolReply>(request, lines instanceof Uint8Array ? [lines.buffer as ArrayBuffer] : []);
    if ("decisions" in reply) return reply.decisions;
    throw offset(rebuild(reply), start);
  }
}

/**
 * The next batch's size with `remaining` inputs left and `slots` batches in flight at once: the
 * configured size until the end is near, then smaller and smaller (a share of what is left, as
 * guided self-scheduling cuts a loop). A thread that runs out of work waits for the others' last
 * batches; with the last ones small the threads finish within a few inputs of each other instead
 * of up to two batches apart (~2 % on 9,000 lines, a third on 288).
 * @internal
 */
export function guidedBatch(remaining: number, batchSize: number, slots: number): number {
  return Math.min(batchSize, Math.max(MIN_BATCH, Math.ceil(remaining / (2 * slots))));
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
