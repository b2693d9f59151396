/**
 * NDJSON shared by the decision pool's threads (pool.ts, pool-worker.ts): the bytes in shared
 * memory, cut into chunks of bytes that the threads take in turn from a shared counter. The main
 * thread only picks where the cuts fall (arithmetic on the length, no scanning); each thread finds
 * the lines of the chunk it takes itself — a line belongs to the chunk in which it starts — so
 * that the threads wait on nothing the main thread does per line.
 */
import { NEWLINE } from "./ndjson.js";

export interface SharedLines {
  /** The lines' UTF-8 bytes, from 0 to `length` (the buffer may be longer: it is kept between calls). */
  readonly bytes: SharedArrayBuffer;
  readonly length: number;
  /** Float64s: n + 1 cut points in the bytes, from 0 to `length`; chunk i lies between cuts i and i + 1. */
  readonly cuts: SharedArrayBuffer;
  /** Int32s: the next chunk to take, and the first chunk in which a thread met a bad line (initially none). */
  readonly control: SharedArrayBuffer;
}

const NEXT = 0;
const STOP_AT = 1;
const NONE = 0x7fffffff;

/** The smallest chunk the end of a call is cut into, in lines, so that its last hand-overs stay few. */
const MIN_BATCH = 4;

/** Up to this many bytes from the start tell the lines' average length. */
const SAMPLE_BYTES = 1 << 16;

/**
 * Shares `bytes` (a view from 0 of shared memory) among `slots` threads in chunks of about
 * `batchLines` lines, smaller and smaller near the end (guidedBatch).
 */
export function shareLines(bytes: Buffer, batchLines: number, slots: number): SharedLines {
  const { length } = bytes;
  const sample = bytes.subarray(0, Math.min(length, SAMPLE_BYTES));
  let lines = 1;
  for (let at = sample.indexOf(NEWLINE); at >= 0 && at < sample.length - 1; at = sample.indexOf(NEWLINE, at + 1)) lines++;
  const lineBytes = sample.length / lines;
  const [batch, least] = [Math.ceil(batchLines * lineBytes), Math.ceil(MIN_BATCH * lineBytes)];
  const cuts = [0];
  for (let at = 0; at < length; ) {
    at = Math.min(length, at + guidedBatch(length - at, batch, slots, least));
    cuts.push(at);
  }
  const control = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  control[STOP_AT] = NONE;
  const shared = new Float64Array(new SharedArrayBuffer(cuts.length * Float64Array.BYTES_PER_ELEMENT));
  shared.set(cuts);
  return { bytes: bytes.buffer as SharedArrayBuffer, length, cuts: shared.buffer as SharedArrayBuffer, control: control.buffer as SharedArrayBuffer };
}

/**
 * The size of the next piece of work with `remaining` left and `slots` threads taking pieces at
 * once: `batch` until the end is near, then smaller and smaller (a share of what is left, as
 * guided self-scheduling cuts a loop), never below `least`. A thread that runs out of work waits
 * for the others' last pieces; with the last ones small the threads finish within a few inputs of
 * each other instead of up to two batches apart (~2 % on 9,000 lines, a third on 288).
 * @internal
 */
export function guidedBatch(remaining: number, batch: number, slots: number, least = MIN_BATCH): number {
  return Math.min(batch, Math.max(least, Math.ceil(remaining / (2 * slots))));
}

/**
 * A thread's view of shared lines: it takes chunks until none are left, or until a thread met a
 * bad line in an earlier chunk. Every chunk before the first bad line's is still decided, so the
 * first bad line of the whole call is found, whichever thread met a bad line first.
 */
export class LineChunks {
  readonly bytes: Buffer;
  private readonly cuts: Float64Array;
  private readonly control: Int32Array;

  constructor(shared: SharedLines) {
    this.bytes = Buffer.from(shared.bytes, 0, shared.length);
    this.cuts = new Float64Array(shared.cuts);
    this.control = new Int32Array(shared.control);
  }

  /** How many chunks there are. */
  get count(): number {
    return this.cuts.length - 1;
  }

  /** The next chunk to decide, or -1 when there is none. */
  take(): number {
    const chunk = Atomics.add(this.control, NEXT, 1);
    return chunk < this.count && chunk <= Atomics.load(this.control, STOP_AT) ? chunk : -1;
  }

  /** The lines of a chunk: from the first line starting in it to the first starting after it. */
  lines(chunk: number): { start: number; end: number } {
    return { start: this.lineStart(this.cuts[chunk]!), end: this.lineStart(this.cuts[chunk + 1]!) };
  }

  /** Tells the other threads to take no chunk after this one: it holds a bad line. */
  stopAfter(chunk: number): void {
    for (let seen = Atomics.load(this.control, STOP_AT); chunk < seen; ) {
      const was = Atomics.compareExchange(this.control, STOP_AT, seen, chunk);
      if (was === seen) return;
      seen = was;
    }
  }

  /** Where the first line starting at or after `at` starts (or the end). */
  private lineStart(at: number): number {
    if (at === 0) return 0;
    const newline = this.bytes.indexOf(NEWLINE, at - 1);
    return newline < 0 ? this.bytes.length : newline + 1;
  }
}
