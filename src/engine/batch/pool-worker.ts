/**
 * A thread of the decision pool (pool.ts): instantiates the module compiled once in the main
 * thread, then decides exactly as `Stepup.decide` does — validation, the wasm, the verdict's
 * validation and rendering, the fail-closed deny. A batch of documents is answered with its
 * decisions as one JSON text (cheaper to hand across threads than a graph of objects); NDJSON
 * shared by every thread (shared-lines.ts) is decided chunk by chunk as the thread takes them
 * (ndjson.ts), and its answers are copied to their place in the output once every chunk is
 * decided.
 */
import { parentPort } from "node:worker_threads";
import { randomUUID } from "node:crypto";
import type { CodeEntry } from "../../contracts/metadata.js";
import { logFailure } from "../../decision/conclude.js";
import { isStepupError } from "../../errors.js";
import { decideDocument } from "../decide.js";
import { Answers, decideLines, KeptBuffer, LineFailure } from "./ndjson.js";
import { LineChunks, type SharedLines } from "./shared-lines.js";
import { WasmEngine, type EngineTransfer } from "../inprocess/wasm.js";

/** What the pool sends a thread when it starts. */
export interface PoolSetup extends EngineTransfer {
  readonly codes: Readonly<Record<string, CodeEntry>>;
}

/**
 * Where a thread's answers to shared lines go once every chunk is decided: `output` holds all of
 * them in the order of the chunks, chunk i at byte `offsets[i]` (Float64s). Without an output (a
 * bad line stopped the call) the thread lets its answers go.
 */
export interface CopyOut {
  /** The id of the request with the lines. */
  readonly call: number;
  readonly output?: SharedArrayBuffer;
  readonly offsets?: SharedArrayBuffer;
}

/**
 * A batch of input documents to decide; lines that every thread shares out; or, after lines, the
 * copying of a thread's answers to their place in the output.
 */
export type PoolRequest =
  | { readonly id: number; readonly inputs: readonly unknown[] }
  | { readonly id: number; readonly lines: SharedLines }
  | { readonly id: number; readonly copy: CopyOut };

/**
 * The answer: the documents' decisions as one JSON array; for shared lines, which chunks this
 * thread took and how long its answer to each is (chunk, length pairs), the answers kept for the
 * copy; the copy done; or the first input that broke the contract, by its index in the batch (or
 * its line in the whole call).
 */
export type PoolReply =
  | { readonly id: number; readonly decisions: string }
  | { readonly id: number; readonly taken: Float64Array }
  | { readonly id: number; readonly copied: true }
  | { readonly id: number; readonly index: number; readonly error: { code: string; message: string; issues?: unknown } };

const port = parentPort;
if (!port) throw new Error("pool-worker.ts runs as a worker thread");

let decide: ((raw: unknown) => unknown) | undefined;

port.on("message", (message: PoolSetup | PoolRequest) => {
  if ("module" in message) {
    const engine = WasmEngine.fromTransfer(message);
    const { revision, codes } = message;
    const hooks = { onError: logFailure };
    // The context as Stepup.decide builds it, a literal of one shape: built by spreading a base
    // object instead, the pool's threads measured ~5 % slower per decision than one thread.
    // Every document here is data: parsed from a line, or cloned from the main thread.
    decide = (raw) => decideDocument(engine, raw, { decisionId: randomUUID(), revision, codes }, hooks, true);
    port.postMessage({ ready: true });
    return;
  }
  port.postMessage("lines" in message ? decideShared(message.id, message.lines) : "copy" in message ? copyOut(message.copy, message.id) : decideBatch(message));
});

function decideBatch(request: Extract<PoolRequest, { inputs: unknown }>): PoolReply {
  const decisions: string[] = [];
  let index = 0;
  try {
    for (; index < request.inputs.length; index++) decisions.push(JSON.stringify(decide!(request.inputs[index])));
    return { id: request.id, decisions: `[${decisions.join(",")}]` };
  } catch (err) {
    return { id: request.id, index, error: errorOf(err) };
  }
}

/** Answers to shared lines waiting for their copy, and (chunk, offset, length) triples into them. */
const pending = new Map<number, { readonly answers: Answers; readonly taken: readonly number[] }>();
/** The last call's buffer for answers, kept for the next. */
const spare = new KeptBuffer<Buffer>();

/** Takes chunks of the shared lines until none are left (or a thread met a bad line before them). */
function decideShared(id: number, shared: SharedLines): PoolReply {
  const chunks = new LineChunks(shared);
  const taken: number[] = [];
  const answers = new Answers(spare.take());
  pending.set(id, { answers, taken });
  for (let chunk = chunks.take(); chunk >= 0; chunk = chunks.take()) {
    const { start, end } = chunks.lines(chunk);
    const from = answers.used;
    try {
      decideLines(decide!, chunks.bytes, start, end, answers);
    } catch (err) {
      chunks.stopAfter(chunk);
      const failure = err instanceof LineFailure ? err : new LineFailure(-1, err);
      return { id, index: failure.line, error: errorOf(failure.error) };
    }
    taken.push(chunk, from, answers.used - from);
  }
  const lengths = new Float64Array((taken.length / 3) * 2);
  for (let i = 0; i < taken.length / 3; i++) [lengths[2 * i], lengths[2 * i + 1]] = [taken[3 * i]!, taken[3 * i + 2]!];
  return { id, taken: lengths };
}

/** Copies this thread's answers to a call's lines into the shared output (or lets them go). */
function copyOut({ call, output, offsets }: CopyOut, id: number): PoolReply {
  const kept = pending.get(call);
  pending.delete(call);
  if (!kept) return { id, index: 0, error: { code: "ERR_ENGINE_EVALUATION", message: `no answers kept for request ${call}` } };
  const { answers, taken } = kept;
  if (output && offsets) {
    const to = new Uint8Array(output);
    const at = new Float64Array(offsets);
    for (let i = 0; i < taken.length; i += 3) to.set(answers.buffer.subarray(taken[i + 1]!, taken[i + 1]! + taken[i + 2]!), at[taken[i]!]);
  }
  spare.give(answers.buffer);
  return { id, copied: true };
}

function errorOf(err: unknown): Extract<PoolReply, { error: unknown }>["error"] {
  const { code, message, issues } = err as { code?: string; message?: string; issues?: unknown };
  return { code: isStepupError(err) && code ? code : "ERR_ENGINE_EVALUATION", message: message ?? String(err), issues };
}
