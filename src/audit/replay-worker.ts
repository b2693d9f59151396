/**
 * A thread of the replay pool (replay-pool.ts): takes chunks of a decision log as bytes, and for
 * each event does what in-process replay does — validate it, check its input, evaluate, compare
 * with what was logged — answering with one finding per event, in order. Verify needs the engine
 * of each revision the log names; the thread asks the main thread for a revision the first time it
 * meets it (the main thread reads the bundle store and compiles each revision once for all threads)
 * and waits for the answer before going on.
 */
import { parentPort } from "node:worker_threads";
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import { WasmEngine, type EngineTransfer } from "../engine/inprocess/wasm.js";
import { LogInvalidError } from "../errors.js";
import { parseLogChunk, type LogChunk } from "./read-log.js";
import type { PolicyRead } from "./policy-reads.js";
import { inputMaskPaths, replayableInput, verifyEvent, whatIfEvent, type VerifyFinding, type WhatIfFinding } from "./replay.js";
import { eventRevision } from "./review.js";

/** What the pool sends a thread when it starts: verify, or what-if on a candidate. */
export type ReplaySetup =
  | { readonly mode: "verify" }
  | { readonly mode: "what-if"; readonly candidate: EngineTransfer; readonly reads: readonly PolicyRead[] };

/** A chunk of a log to replay; its bytes are transferred, not copied. */
export interface ReplayRequest extends LogChunk {
  readonly id: number;
}

/**
 * The answer to a chunk: a finding per event, in order, up to the first event that could not be
 * replayed at all — a line that is not an event, or a revision whose bundle did not load — named
 * in `error`.
 */
export interface ReplayReply {
  readonly id: number;
  readonly findings: (VerifyFinding | WhatIfFinding)[];
  readonly error?: ReplayError;
}

export type ReplayError =
  | { readonly code: "ERR_LOG_INVALID"; readonly file: string; readonly line: number; readonly issues: LogInvalidError["issues"] }
  | { readonly code: "revision"; readonly revision: string };

/** A question to the main thread, and its answer: the revision's engine, null when the store lacks it. */
export interface RevisionAsk {
  readonly revision: string;
}
export type RevisionAnswer =
  | { readonly revision: string; readonly engine: EngineTransfer | null; readonly reads: readonly PolicyRead[] }
  | { readonly revision: string; readonly failed: true };

const port = parentPort;
if (!port) throw new Error("replay-worker.ts runs as a worker thread");

/** Engines by revision: null for one the store lacks, "failed" for one whose bundle did not load. */
const engines = new Map<string, WasmEngine | null | "failed">();
const readsOf = new Map<string, readonly PolicyRead[]>();
let candidate: WasmEngine | undefined;
let candidateReads: readonly PolicyRead[] = [];

/** The chunk being replayed: its events, parsed up front, and how far it got. */
interface Work {
  readonly id: number;
  readonly events: DecisionLogEvent[];
  readonly findings: (VerifyFinding | WhatIfFinding)[];
  at: number;
  error?: ReplayError;
}

const queue: ReplayRequest[] = [];
let current: Work | undefined;
let waiting = false;

port.on("message", (message: ReplaySetup | ReplayRequest | RevisionAnswer) => {
  if ("mode" in message) {
    if (message.mode === "what-if") {
      candidate = WasmEngine.fromTransfer(message.candidate);
      candidateReads = message.reads;
    }
    port.postMessage({ ready: true });
    return;
  }
  if ("revision" in message) {
    engines.set(message.revision, "failed" in message ? "failed" : message.engine && WasmEngine.fromTransfer(message.engine));
    if ("reads" in message) readsOf.set(message.revision, message.reads);
    waiting = false;
  } else queue.push(message);
  pump();
});

/** Replays chunks in order until one needs a revision the thread has not got yet. */
function pump(): void {
  while (!waiting) {
    if (!current) {
      const request = queue.shift();
      if (!request) return;
      current = start(request);
    }
    if (!advance(current)) {
      waiting = true;
      return;
    }
    const { id, findings, error } = current;
    port!.postMessage(error ? { id, findings, error } : { id, findings });
    current = undefined;
  }
}

function start(request: ReplayRequest): Work {
  const work: Work = { id: request.id, events: [], findings: [], at: 0 };
  try {
    for (const event of parseLogChunk(request)) work.events.push(event);
  } catch (err) {
    if (!(err instanceof LogInvalidError)) throw err;
    // The events before the bad line are replayed first, as reading the log in-process would.
    work.error = { code: "ERR_LOG_INVALID", file: err.source, line: err.line, issues: err.issues };
  }
  return work;
}

/** Goes on with a chunk; false when it must wait for a revision. */
function advance(work: Work): boolean {
  for (; work.at < work.events.length; work.at++) {
    const event = work.events[work.at]!;
    const input = replayableInput(event);
    if (candidate) {
      work.findings.push(whatIfEvent(event, input, candidate, candidateReads));
      continue;
    }
    const revision = eventRevision(event) ?? "";
    // As in-process, only a replayable or masked event asks for its revision.
    const engine = input || inputMaskPaths(event).length > 0 ? engines.get(revision) : null;
    if (engine === undefined) {
      port!.postMessage({ ask: { revision } satisfies RevisionAsk });
      return false;
    }
    if (engine === "failed") {
      work.error = { code: "revision", revision };
      work.at = work.events.length;
      return true;
    }
    work.findings.push(verifyEvent(event, input, engine ?? undefined, readsOf.get(revision)));
  }
  return true;
}
