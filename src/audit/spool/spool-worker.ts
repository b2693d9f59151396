/**
 * A sink's spool thread: drains the ring the decision path writes into, appends the events to the
 * disk spool, and delivers them from the spool to the destination in order. It runs on its own
 * event loop, so events reach the disk while the deciding thread runs a loop that never yields,
 * and a slow or absent destination holds up nothing but the spool's growth.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { DropReason } from "../sink.js";
import type { Destination, Notice } from "./destination.js";
import { FileDestination, type FileDestinationOptions } from "./file-destination.js";
import { HttpDestination, type HttpDestinationOptions } from "./http-destination.js";
import { CTRL, MAX_RECORD, RingReader, STAT, type RingMemory } from "./ring.js";
import { Spool, type SpoolOptions } from "./segments.js";

export interface SpoolSetup {
  readonly ring: RingMemory;
  readonly spool: SpoolOptions;
  readonly fsyncIntervalMs: number;
  /** How often the ring is drained when nothing wakes the thread. */
  readonly drainIntervalMs: number;
  readonly destination: { readonly kind: "file"; readonly options: FileDestinationOptions } | { readonly kind: "http"; readonly options: HttpDestinationOptions };
}

/** From the sink to its thread. */
export type SpoolRequest = { readonly id: number; readonly op: "flush" } | { readonly id: number; readonly op: "close"; readonly timeoutMs: number };

/** From the thread to its sink. */
export type SpoolMessage =
  | { readonly reply: number; readonly delivered: boolean }
  | { readonly drops: Partial<Record<DropReason, number>> }
  | { readonly notice: Notice }
  | { readonly failed: string }
  | { readonly ready: true };

/** Node 16+ has it; TypeScript's lib for this target does not declare it. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

const port = parentPort;
if (!port) throw new Error("spool-worker.ts runs as a worker thread");
const setup = workerData as SpoolSetup;
const reader = new RingReader(setup.ring);
const stats = new Float64Array(setup.ring.stats);
const out = Buffer.allocUnsafe(2 * MAX_RECORD);
const notice = (n: Notice) => port.postMessage({ notice: n } satisfies SpoolMessage);

let pendingDrops: Partial<Record<DropReason, number>> = {};
let dropTimer: NodeJS.Timeout | undefined;
function drop(reason: DropReason, count: number): void {
  if (count <= 0) return;
  pendingDrops[reason] = (pendingDrops[reason] ?? 0) + count;
  dropTimer ??= setTimeout(sendDrops, 50);
}
function sendDrops(): void {
  clearTimeout(dropTimer);
  dropTimer = undefined;
  if (Object.keys(pendingDrops).length === 0) return;
  port!.postMessage({ drops: pendingDrops } satisfies SpoolMessage);
  pendingDrops = {};
}

let spool: Spool;
try {
  spool = Spool.open(setup.spool);
} catch (err) {
  reader.set(CTRL.failed, 1);
  port.postMessage({ failed: (err as Error).message } satisfies SpoolMessage);
  throw err;
}
port.postMessage({ ready: true } satisfies SpoolMessage);
if (spool.torn > 0) {
  drop("torn", spool.torn);
  notice({ level: "warn", msg: "torn decision log event cut from the spool (the process was killed mid-write)", count: spool.torn });
}
const destination: Destination =
  setup.destination.kind === "file" ? new FileDestination(setup.destination.options, notice) : new HttpDestination(setup.destination.options, notice);

/** Lines appended in this run, and lines the cursor passed (delivered or dropped) in this run. */
let appended = 0;
let passed = 0;
const oldPending = spool.pendingEvents;
let closing: { id: number; deadline: number } | undefined;
let flushing: { id: number; target: number; failed: boolean }[] = [];
let wakeDelivery: (() => void) | undefined;

function publish(): void {
  stats[STAT.appended] = appended;
  stats[STAT.pending] = spool.pendingEvents;
  stats[STAT.spoolBytes] = spool.bytes;
  if (destination instanceof FileDestination) stats[STAT.inRemovedFile] = destination.inRemovedFile;
}

/** Moves whatever waits in the ring into the spool. */
function drain(): void {
  for (;;) {
    const { bytes, lines } = reader.drain(out);
    if (lines === 0) break;
    try {
      const refused = spool.append(out.subarray(0, bytes), lines);
      appended += lines - refused;
      drop("spool_full", refused);
    } catch (err) {
      drop("write_failed", lines);
      notice({ level: "error", msg: "decision log spool cannot be written", error: (err as Error).message });
    }
  }
  reader.set(CTRL.spoolFull, spool.full ? 1 : 0);
  publish();
  if (appended + oldPending > passed) wakeDelivery?.();
}

async function drainLoop(): Promise<void> {
  const ctrl = reader.ctrl;
  while (!closing) {
    const seen = Atomics.load(ctrl, CTRL.wake);
    drain();
    const waited = (Atomics as unknown as AtomicsWaitAsync).waitAsync(ctrl, CTRL.wake, seen, setup.drainIntervalMs);
    if (waited.async) await waited.value;
  }
}

/**
 * Waits `ms`. New events, a flush or a close end an idle wait early; a wait after a failed
 * delivery (backoff, Retry-After) is ended early only by a close.
 */
function sleep(ms: number, backingOff = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wakeDelivery = undefined;
      wakeOnClose = undefined;
      resolve();
    }
    if (backingOff) wakeOnClose = done;
    else wakeDelivery = done;
  });
}
let wakeOnClose: (() => void) | undefined;

/** Settles the flushes whose events have all been delivered, or that saw a delivery fail. */
function settleFlushes(): void {
  flushing = flushing.filter((f) => {
    if (passed + oldPending < f.target && !f.failed) return true;
    port!.postMessage({ reply: f.id, delivered: passed + oldPending >= f.target } satisfies SpoolMessage);
    return false;
  });
}

async function deliveryLoop(): Promise<void> {
  let lingerSince: number | undefined;
  for (;;) {
    if (closing && (spool.pendingEvents === 0 || Date.now() >= closing.deadline)) return;
    const batch = spool.peek(destination.batchBytes, destination.batchLines);
    if (batch.ends.length === 0) {
      lingerSince = undefined;
      settleFlushes();
      await sleep(closing ? 10 : 1_000);
      continue;
    }
    if (!closing && flushing.length === 0) {
      const linger = destination.linger(batch);
      lingerSince ??= Date.now();
      const left = lingerSince + linger - Date.now();
      if (left > 0) {
        await sleep(Math.min(left, 1_000));
        continue;
      }
    }
    lingerSince = undefined;
    const result = await destination.deliver(batch);
    if ("lines" in result) {
      spool.advance(result.lines, batch.ends[result.lines - 1]!);
      passed += result.lines;
      const dropped = Object.values(result.dropped ?? {}).reduce((n, c) => n + (c ?? 0), 0);
      stats[STAT.delivered] = stats[STAT.delivered]! + result.lines - dropped;
      for (const [reason, count] of Object.entries(result.dropped ?? {})) drop(reason as DropReason, count ?? 0);
      reader.set(CTRL.spoolFull, spool.full ? 1 : 0);
      publish();
      settleFlushes();
    } else {
      stats[STAT.failedAttempts] = stats[STAT.failedAttempts]! + 1;
      for (const f of flushing) f.failed = true;
      settleFlushes();
      const wait = closing ? Math.min(result.retryInMs, Math.max(0, closing.deadline - Date.now())) : result.retryInMs;
      if (wait > 0) await sleep(wait, true);
    }
  }
}

const fsyncTimer = setup.spool.fsync === "interval" ? setInterval(() => spool.sync(), setup.fsyncIntervalMs) : undefined;
const draining = drainLoop();
const delivering = deliveryLoop();

port.on("message", (request: SpoolRequest) => {
  drain();
  if (request.op === "flush") {
    flushing.push({ id: request.id, target: appended + oldPending, failed: false });
    settleFlushes();
    wakeDelivery?.();
    return;
  }
  if (closing) return;
  closing = { id: request.id, deadline: Date.now() + request.timeoutMs };
  // Wake the drain loop so it sees `closing` and ends.
  Atomics.add(reader.ctrl, CTRL.wake, 1);
  Atomics.notify(reader.ctrl, CTRL.wake);
  wakeDelivery?.();
  wakeOnClose?.();
  void finish(request.id);
});

async function finish(id: number): Promise<void> {
  await draining;
  drain();
  await delivering;
  clearInterval(fsyncTimer);
  await destination.close();
  spool.close();
  publish();
  for (const f of flushing) port!.postMessage({ reply: f.id, delivered: spool.pendingEvents === 0 } satisfies SpoolMessage);
  flushing = [];
  sendDrops();
  port!.postMessage({ reply: id, delivered: spool.pendingEvents === 0 } satisfies SpoolMessage);
  port!.close();
}
