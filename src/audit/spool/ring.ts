/**
 * The bounded in-memory queue between the decision path and a sink's spool thread: a ring of
 * bytes in shared memory with one writer (the thread that decides) and one reader (the spool
 * thread). Writing an event is a copy into the ring and one atomic store, so the decision never
 * waits on a disk or a network, and the reader drains the ring on its own thread even while the
 * writer runs a loop that never yields to its event loop. A record is its length (4 bytes) and
 * its UTF-8 bytes, padded to 4; a length of -1 sends the reader back to the ring's start.
 */

/** Slots of the control array shared by both sides. */
export const CTRL = {
  /** Where the writer writes next (bytes into the ring). */
  write: 0,
  /** Where the reader reads next. */
  read: 1,
  /** 1 while the spool is at its cap (set by the reader's side). */
  spoolFull: 2,
  /** 1 once the spool thread has failed for good (it cannot open its spool). */
  failed: 3,
  /** Bumped by the writer to wake the reader early. */
  wake: 4,
} as const;
const CTRL_SLOTS = 8;
const WRAP = -1;
/** The largest event a ring takes (4 MiB); a reader's buffer must hold one. */
export const MAX_RECORD = 4 * 1024 * 1024;
/** The least room `writeInPlace` offers: an event is about 2 KB; a larger one is copied in. */
export const IN_PLACE_LEAST = 64 * 1024;

/** The shared memory of one ring: the control slots and the bytes. */
export interface RingMemory {
  readonly control: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
  /** Counters the spool thread publishes (Float64, see `STAT`), read without a round trip. */
  readonly stats: SharedArrayBuffer;
}

/** Slots of the shared counters. */
export const STAT = {
  /** Events appended to the spool since the sink started. */
  appended: 0,
  /** Events delivered to the destination since the sink started. */
  delivered: 1,
  /** Events in the spool, not delivered yet (those of earlier runs included). */
  pending: 2,
  /** Bytes of spool segments on disk. */
  spoolBytes: 3,
  /** Deliveries that failed and will be tried again. */
  failedAttempts: 4,
  /** Events delivered into a file that was then removed (file destination). */
  inRemovedFile: 5,
} as const;

export function allocateRing(capacity: number): RingMemory {
  const cap = Math.max(1024, capacity - (capacity % 4));
  return { control: new SharedArrayBuffer(CTRL_SLOTS * 4), bytes: new SharedArrayBuffer(cap), stats: new SharedArrayBuffer(8 * 8) };
}

/** The writing side, on the thread that decides. */
export class RingWriter {
  private readonly ctrl: Int32Array;
  private readonly buf: Buffer;
  private readonly cap: number;
  private w: number;
  private sinceWake = 0;
  private readonly wakeEvery: number;

  constructor(memory: RingMemory) {
    this.ctrl = new Int32Array(memory.control);
    this.buf = Buffer.from(memory.bytes);
    this.cap = memory.bytes.byteLength;
    this.w = Atomics.load(this.ctrl, CTRL.write);
    // Wake the reader early once an eighth of the ring waits; otherwise it drains on its own timer.
    this.wakeEvery = this.cap >> 3;
  }

  /** The largest record the ring takes: half the ring, at most `MAX_RECORD`. */
  get maxRecord(): number {
    return Math.min(this.cap >> 1, MAX_RECORD) - 8;
  }

  /** Bytes waiting for the reader. */
  get used(): number {
    const r = Atomics.load(this.ctrl, CTRL.read);
    return this.w >= r ? this.w - r : this.cap - r + this.w;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Copies one line in: "full" when it does not fit now, "too_large" when it never will. */
  write(line: string): "ok" | "full" | "too_large" {
    const r = Atomics.load(this.ctrl, CTRL.read);
    // Room for the longest encoding (3 bytes a UTF-16 unit) right here: encode once, in place.
    const worst = 4 + 3 * line.length + 3;
    if (worst <= this.maxRecord && (this.w >= r ? this.cap - this.w > worst : r - this.w > worst)) {
      const n = this.buf.write(line, this.w + 4, "utf8");
      this.buf.writeInt32LE(n, this.w);
      return this.commit(this.w, 4 + ((n + 3) & ~3));
    }
    const n = Buffer.byteLength(line);
    const need = 4 + ((n + 3) & ~3);
    if (need > this.maxRecord) return "too_large";
    const at = this.place(need, r);
    if (at < 0) return "full";
    this.buf.writeInt32LE(n, at);
    this.buf.write(line, at + 4, n, "utf8");
    return this.commit(at, need);
  }

  /** Copies one line in, given as its UTF-8 bytes (`bytes[0..length)`); answers as `write`. */
  writeBytes(bytes: Uint8Array, length: number): "ok" | "full" | "too_large" {
    const need = 4 + ((length + 3) & ~3);
    if (need > this.maxRecord) return "too_large";
    const at = this.place(need, Atomics.load(this.ctrl, CTRL.read));
    if (at < 0) return "full";
    this.buf.writeInt32LE(length, at);
    this.buf.set(length === bytes.length ? bytes : bytes.subarray(0, length), at + 4);
    return this.commit(at, need);
  }

  /**
   * Lets `write(bytes, at, end, arg)` write one line's UTF-8 bytes straight into the ring, from
   * `at` and not past `end` — the room for a record in one piece, at least `IN_PLACE_LEAST` bytes
   * of it — and publishes the record when it returns where the line ends. Returns what `write`
   * returned (a negative number: nothing was published), or -1 without calling it when the ring
   * has no such room now (the caller then writes the line elsewhere and copies it in, `writeBytes`).
   */
  writeInPlace<T>(write: (bytes: Uint8Array, at: number, end: number, arg: T) => number, arg: T): number {
    const r = Atomics.load(this.ctrl, CTRL.read);
    const largest = this.maxRecord & ~3;
    let at = this.w;
    let end: number;
    if (at < r) {
      // A record must end before the reader's index (equal indexes mean an empty ring).
      end = r - 4;
    } else {
      // Up to the ring's end (if the reader is not at 0: a record ending there moves the index to 0).
      end = r > 0 ? this.cap : this.cap - 4;
      if (end - at < IN_PLACE_LEAST + 4 && r - 4 >= IN_PLACE_LEAST + 4) {
        // Too little room before the end: from the ring's start, behind a wrap marker.
        this.buf.writeInt32LE(WRAP, at);
        at = 0;
        end = r - 4;
      }
    }
    end = Math.min(end, at + largest);
    if (end - at < IN_PLACE_LEAST + 4) return -1;
    const n = write(this.buf, at + 4, end, arg);
    if (n < 0) return n;
    const length = n - at - 4;
    this.buf.writeInt32LE(length, at);
    this.commit(at, 4 + ((length + 3) & ~3));
    return n;
  }

  /**
   * Where a record of `need` bytes goes with the reader at `r`: at the write index, or at the start
   * after a wrap marker when it does not fit before the end; -1 when there is no room now.
   */
  private place(need: number, r: number): number {
    const at = this.w;
    if (at < r) return r - at > need ? at : -1;
    const room = this.cap - at;
    if (room > need || (room === need && r > 0)) return at;
    if (r <= need) return -1;
    this.buf.writeInt32LE(WRAP, at);
    return 0;
  }

  /** Publishes a record written at `at`: the reader may take it once the write index moves. */
  private commit(at: number, need: number): "ok" {
    let next = at + need;
    if (next === this.cap) next = 0;
    this.w = next;
    Atomics.store(this.ctrl, CTRL.write, next);
    this.sinceWake += need;
    if (this.sinceWake >= this.wakeEvery) this.wake();
    return "ok";
  }

  /** Wakes the reader now (for a flush, or once enough waits). */
  wake(): void {
    this.sinceWake = 0;
    Atomics.add(this.ctrl, CTRL.wake, 1);
    Atomics.notify(this.ctrl, CTRL.wake);
  }

  flag(slot: number): boolean {
    return Atomics.load(this.ctrl, slot) === 1;
  }
}

/** The reading side, on the spool thread. */
export class RingReader {
  readonly ctrl: Int32Array;
  private readonly buf: Buffer;
  private readonly cap: number;

  constructor(memory: RingMemory) {
    this.ctrl = new Int32Array(memory.control);
    this.buf = Buffer.from(memory.bytes);
    this.cap = memory.bytes.byteLength;
  }

  /**
   * Moves records out of the ring: each line is copied into `out` from `offset`, followed by a
   * newline, while it fits; the ring's space is given back as it goes. Returns the bytes written
   * into `out` and the number of lines.
   */
  drain(out: Buffer, offset = 0): { bytes: number; lines: number } {
    const w = Atomics.load(this.ctrl, CTRL.write);
    let r = Atomics.load(this.ctrl, CTRL.read);
    let at = offset;
    let lines = 0;
    while (r !== w) {
      let n = this.buf.readInt32LE(r);
      if (n === WRAP) {
        r = 0;
        if (r === w) break;
        n = this.buf.readInt32LE(r);
      }
      if (at + n + 1 > out.length) break;
      this.buf.copy(out, at, r + 4, r + 4 + n);
      out[at + n] = 0x0a;
      at += n + 1;
      lines++;
      r += 4 + ((n + 3) & ~3);
      if (r === this.cap) r = 0;
    }
    Atomics.store(this.ctrl, CTRL.read, r);
    return { bytes: at - offset, lines };
  }

  /** Whether records wait. */
  get pending(): boolean {
    return Atomics.load(this.ctrl, CTRL.write) !== Atomics.load(this.ctrl, CTRL.read);
  }

  set(slot: number, value: 0 | 1): void {
    Atomics.store(this.ctrl, slot, value);
  }
}
