/**
 * NDJSON decided line by line on the calling thread: the work of each thread of the decision pool
 * on its batches, and of `Stepup.decideLines` on one thread. Each line is decoded alone and each
 * decision written out as bytes as soon as it is made. A batch's text, or its answers joined into
 * one string, would be a large object (over 128 KiB) whose memory V8 maps and unmaps on its own,
 * and the threads of one process then wait on each other's mappings: two threads joining strings
 * per batch reached 1.7–1.9 times one thread's throughput where deciding alone reached 2.0.
 */
import { InputInvalidError, InputNotJsonError } from "../../errors.js";

export const NEWLINE = 0x0a;

/**
 * Up to this much of a buffer is kept between calls: fresh memory costs a page fault per 4 KiB
 * and copies as it grows, and the garbage of growing answers afresh (64 MB for 17 MB of answers)
 * made V8 run a full collection per call of 9,000 lines.
 */
const KEEP_BYTES = 64 * 2 ** 20;

/**
 * One buffer kept from call to call (the input shared with the pool's threads, a thread's answers,
 * `Stepup.decideLines`' answers). A call takes it; a call made meanwhile (from a decision hook, or
 * another call on the pool) finds none and uses a fresh one; each gives its buffer back.
 */
export class KeptBuffer<B extends { readonly byteLength: number }> {
  private kept: B | undefined;

  /** The kept buffer, if there is one of at least `bytes`; no one else gets it until it is given back. */
  take(bytes = 0): B | undefined {
    const buffer = this.kept;
    if (!buffer || buffer.byteLength < bytes) return undefined;
    this.kept = undefined;
    return buffer;
  }

  /** Keeps `buffer` for the next call if it is larger than the one kept and not too large. */
  give(buffer: B): void {
    if (buffer.byteLength <= KEEP_BYTES && buffer.byteLength > (this.kept?.byteLength ?? 0)) this.kept = buffer;
  }
}

/** Options of `decideLines` on bytes. */
export interface LinesOptions {
  /**
   * Answers an earlier `decideLines` call returned that you have finished with (written out, say):
   * the new answers are written into their memory when they fit, instead of fresh memory, and
   * the result is a view of it — the earlier answers are overwritten. For a batch job deciding a
   * log piece by piece: fresh memory costs a page fault per 4 KiB when first written (~3 µs each
   * on the VMs measured, 7 ms per 9,000 answers), paid again on every call.
   */
  readonly into?: Uint8Array;
}

/** Memory that holds answers returned to callers: what `into` may hand back. */
const answerMemory = new WeakSet<ArrayBufferLike>();

/**
 * Room for `length` bytes of answers: the memory of `into` when it holds earlier answers, is of
 * the kind asked for (shared, for the pool's threads to write into) and large enough; otherwise
 * fresh memory. Shared memory is made with room to spare for a longer call's answers (it is
 * zeroed when made, and costs nothing until written).
 */
export function answerBuffer(length: number, into: Uint8Array | undefined, shared: boolean): Buffer {
  const memory = into?.buffer;
  if (memory && answerMemory.has(memory) && memory.byteLength >= length && (!shared || memory instanceof SharedArrayBuffer)) {
    return Buffer.from(memory, 0, length);
  }
  const fresh = shared ? Buffer.from(new SharedArrayBuffer(length + (length >> 3)), 0, length) : Buffer.allocUnsafeSlow(length);
  answerMemory.add(fresh.buffer);
  return fresh;
}

/** NDJSON answers as UTF-8 bytes in a buffer that grows (by doubling) as they are written. */
export class Answers {
  constructor(
    public buffer: Buffer = Buffer.alloc(1 << 16),
    public used = 0,
  ) {}

  /** Writes one answer and its newline. */
  write(answer: string): void {
    // At most three bytes per UTF-16 unit, and the newline.
    const needed = this.used + 3 * answer.length + 1;
    if (needed > this.buffer.length) {
      const larger = Buffer.alloc(Math.max(needed, 2 * this.buffer.length));
      this.buffer.copy(larger, 0, 0, this.used);
      this.buffer = larger;
    }
    this.used += this.buffer.write(answer, this.used);
    this.buffer[this.used++] = NEWLINE;
  }

  /** The bytes written so far (a view, not a copy). */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }
}

/** A line that is not JSON or breaks the contract, by its number (0-based) in the whole input. */
export class LineFailure {
  constructor(
    readonly line: number,
    readonly error: unknown,
  ) {}
}

/**
 * Decides the lines in `bytes` from `start` (a line's start) to `end` (a line's end, or the end of
 * the bytes) and writes one answer per line; blank lines are skipped. Throws a `LineFailure` at
 * the first line that is not JSON or that `decide` refuses, numbered from the start of `bytes`
 * (counted then: only a failure needs the number).
 */
export function decideLines(decide: (raw: unknown) => unknown, bytes: Buffer, start: number, end: number, answers: Answers): void {
  while (start < end) {
    const newline = bytes.indexOf(NEWLINE, start);
    const stop = newline < 0 || newline >= end ? end : newline;
    const text = bytes.toString("utf8", start, stop);
    const at = start;
    start = stop + 1;
    if (text.trim() === "") continue;
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      const line = lineOf(bytes, at);
      throw new LineFailure(line, new InputNotJsonError(`line ${line + 1} is not JSON: ${(err as Error).message}`, { cause: err }));
    }
    let answer: string;
    try {
      answer = JSON.stringify(decide(input));
    } catch (err) {
      throw new LineFailure(lineOf(bytes, at), err);
    }
    answers.write(answer);
  }
}

/** The number (0-based) of the line starting at `offset`: the newlines before it. */
function lineOf(bytes: Buffer, offset: number): number {
  let line = 0;
  for (let at = bytes.indexOf(NEWLINE); at >= 0 && at < offset; at = bytes.indexOf(NEWLINE, at + 1)) line++;
  return line;
}

/** An input's error as the caller of a batch sees it: a contract's issue paths start with `[index]`. */
export function atIndex(err: unknown, index: number): unknown {
  if (!(err instanceof InputInvalidError)) return err;
  return new InputInvalidError(err.issues.map((issue) => ({ ...issue, path: `[${index}]${issue.path ? `.${issue.path}` : ""}` })));
}
