/**
 * A thread of the decision pool (pool.ts): instantiates the module compiled once in the main
 * thread, then decides batches of inputs exactly as `Stepup.decide` does — validation, the wasm,
 * the verdict's validation and rendering, the fail-closed deny — and answers with the batch's
 * decisions as one JSON text (cheaper to hand across threads than a graph of objects).
 */
import { parentPort } from "node:worker_threads";
import { randomUUID } from "node:crypto";
import type { CodeEntry } from "../contracts/metadata.js";
import { logFailure } from "../decision/conclude.js";
import { InputNotJsonError, isStepupError } from "../errors.js";
import { decideDocument } from "../stepup.js";
import { WasmEngine, type EngineTransfer } from "./wasm.js";

/** What the pool sends a thread when it starts. */
export interface PoolSetup extends EngineTransfer {
  readonly codes: Readonly<Record<string, CodeEntry>>;
}

/**
 * A batch to decide: input documents, or NDJSON — text, or UTF-8 bytes whose buffer is
 * transferred, not copied — whose first line is line `first` of the whole.
 */
export type PoolRequest =
  | { readonly id: number; readonly inputs: readonly unknown[] }
  | { readonly id: number; readonly lines: string | Uint8Array; readonly first: number };

/**
 * The answer: the decisions as one JSON array (for documents) or as NDJSON, each line ending in a
 * newline, in the form the lines came in (bytes transferred, not copied), or the first input that
 * broke the contract, by its index in the batch (or its line).
 */
export type PoolReply =
  | { readonly id: number; readonly decisions: string | Uint8Array }
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
    decide = (raw) => decideDocument(engine, raw, { decisionId: randomUUID(), revision, codes }, hooks);
    port.postMessage({ ready: true });
    return;
  }
  const reply = decideBatch(message);
  if ("decisions" in reply && typeof reply.decisions !== "string") port.postMessage(reply, [reply.decisions.buffer as ArrayBuffer]);
  else port.postMessage(reply);
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function decideBatch(request: PoolRequest): PoolReply {
  const decisions: string[] = [];
  let index = 0;
  try {
    if ("inputs" in request) {
      for (; index < request.inputs.length; index++) decisions.push(JSON.stringify(decide!(request.inputs[index])));
      return { id: request.id, decisions: `[${decisions.join(",")}]` };
    }
    const text = typeof request.lines === "string" ? request.lines : decoder.decode(request.lines);
    const lines = text.split("\n");
    for (; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.trim() !== "") decisions.push(JSON.stringify(decide!(parseLine(line, request.first + index))));
    }
    const out = decisions.length === 0 ? "" : `${decisions.join("\n")}\n`;
    // TextEncoder's bytes own their buffer (a Buffer may be a slice of a shared pool), so it can be transferred.
    return { id: request.id, decisions: typeof request.lines === "string" ? out : encoder.encode(out) };
  } catch (err) {
    const { code, message, issues } = err as { code?: string; message?: string; issues?: unknown };
    const at = "inputs" in request ? index : request.first + index;
    return { id: request.id, index: at, error: { code: isStepupError(err) && code ? code : "ERR_ENGINE_EVALUATION", message: message ?? String(err), issues } };
  }
}

function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new InputNotJsonError(`line ${number + 1} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
