/**
 * The disk spool of a sink: append-only segment files in a folder of its own, and a cursor that
 * says how far delivery got. Events are appended in whole lines (NDJSON, as they will be
 * delivered); a new segment starts at each open and at `segmentBytes`; a segment is removed
 * once every event in it was delivered. The spool never holds more than `maxBytes`: what does
 * not fit is refused, and the caller counts it. A process killed mid-append leaves at most one
 * torn line at the end of its last segment, which the next open cuts off and counts.
 *
 * The cursor (`cursor.json`, replaced by rename) moves after a delivery is confirmed, so a crash
 * between the two delivers those events again: at least once, identified by their `decision_id`.
 * A lock file holding the owner's pid keeps two live processes out of one spool; a dead owner's
 * lock (after a crash) is taken over.
 */
import {
  closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync,
  renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync,
} from "node:fs";
import { join } from "node:path";

export type FsyncPolicy = "always" | "interval" | "never";

export interface SpoolOptions {
  readonly dir: string;
  /** The spool's cap, in bytes of segments on disk. */
  readonly maxBytes: number;
  /** A new segment past this size. */
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  size: number;
}

/** Whole lines read from the cursor on: their bytes and where each ends (after its newline). */
export interface Peeked {
  readonly bytes: Buffer;
  readonly ends: readonly number[];
}

const NEWLINE = 0x0a;
const SEGMENT = /^(\d{16})\.ndjson$/;

export class Spool {
  /** Torn lines cut off when the spool was opened (a crash mid-append). */
  readonly torn: number;
  private readonly segments: Segment[] = [];
  private active: { seg: Segment; fd: number };
  private cursor: { seq: number; offset: number };
  private total = 0;
  private pending = 0;
  private dirty = false;
  private refusing = false;
  private readFd: { seq: number; fd: number } | undefined;
  private readonly lockPath: string;

  private constructor(private readonly options: SpoolOptions) {
    const { dir } = options;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.lockPath = join(dir, "lock");
    takeLock(this.lockPath);
    this.cursor = readCursor(join(dir, "cursor.json"));
    let torn = 0;
    const names = readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
    for (const name of names) {
      const seq = Number(SEGMENT.exec(name)![1]);
      const path = join(dir, name);
      if (seq < this.cursor.seq) {
        unlinkSync(path);
        continue;
      }
      const seg: Segment = { seq, path, size: statSync(path).size };
      torn += cutTornTail(seg);
      this.segments.push(seg);
      this.total += seg.size;
      this.pending += countLines(path, seq === this.cursor.seq ? this.cursor.offset : 0);
    }
    this.torn = torn;
    this.active = this.startSegment((this.segments.at(-1)?.seq ?? this.cursor.seq) + 1);
    if (!this.segments.some((s) => s.seq === this.cursor.seq)) this.cursor = { seq: this.segments[0]!.seq, offset: 0 };
  }

  /** Opens (or creates) the spool in `options.dir`, taking it over from a dead owner. */
  static open(options: SpoolOptions): Spool {
    return new Spool(options);
  }

  /** Events appended and not yet delivered. */
  get pendingEvents(): number {
    return this.pending;
  }

  get bytes(): number {
    return this.total;
  }

  /** Whether the last append was refused for want of room (cleared once delivery frees some). */
  get full(): boolean {
    return this.refusing;
  }

  /**
   * Appends whole lines (`bytes` ends with a newline). Lines beyond the cap are refused; returns
   * how many were.
   */
  append(bytes: Buffer, lines: number): number {
    let take = bytes.length;
    let taken = lines;
    const room = this.options.maxBytes - this.total;
    if (take > room) {
      // The longest run of whole lines that fits.
      const cut = room > 0 ? bytes.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
      taken = cut === 0 ? 0 : countNewlines(bytes, cut);
      take = cut;
      this.refusing = true;
    }
    if (take > 0) {
      if (this.active.seg.size > 0 && this.active.seg.size + take > this.options.segmentBytes) this.roll();
      writeAll(this.active.fd, bytes, take);
      this.active.seg.size += take;
      this.total += take;
      this.pending += taken;
      if (this.options.fsync === "always") fsyncSync(this.active.fd);
      else this.dirty = true;
    }
    return lines - taken;
  }

  /** fsync of the segment being written, if anything was appended since the last (the interval policy). */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    fsyncSync(this.active.fd);
  }

  /**
   * Whole lines from the cursor on: at most `maxBytes` (but at least one line) and `maxLines`,
   * all from one segment. Empty when everything was delivered.
   */
  peek(maxBytes: number, maxLines = Infinity): Peeked {
    for (;;) {
      const seg = this.segments.find((s) => s.seq === this.cursor.seq);
      if (!seg) return { bytes: Buffer.alloc(0), ends: [] };
      const available = seg.size - this.cursor.offset;
      if (available <= 0) {
        if (seg === this.active.seg) return { bytes: Buffer.alloc(0), ends: [] };
        this.finishSegment(seg);
        continue;
      }
      const fd = this.reader(seg);
      let want = Math.min(available, Math.max(1, maxBytes));
      for (;;) {
        const bytes = Buffer.allocUnsafe(want);
        const got = readAt(fd, bytes, this.cursor.offset);
        const ends: number[] = [];
        for (let at = bytes.indexOf(NEWLINE); at >= 0 && at < got && ends.length < maxLines; at = bytes.indexOf(NEWLINE, at + 1)) ends.push(at + 1);
        if (ends.length > 0) return { bytes: bytes.subarray(0, ends.at(-1)), ends };
        if (want >= available) {
          // No newline up to the segment's end: nothing that was appended whole (cut at open).
          this.finishSegment(seg);
          break;
        }
        want = Math.min(available, want * 2);
      }
    }
  }

  /** Moves the cursor past lines taken by `peek` once they were delivered (or dropped). */
  advance(lines: number, bytes: number): void {
    this.cursor = { seq: this.cursor.seq, offset: this.cursor.offset + bytes };
    this.pending -= lines;
    const seg = this.segments.find((s) => s.seq === this.cursor.seq);
    if (seg && seg !== this.active.seg && this.cursor.offset >= seg.size) this.finishSegment(seg);
    else this.saveCursor();
  }

  /** Releases files and the lock; what was not delivered stays for the next open. */
  close(): void {
    if (this.options.fsync !== "never") this.sync();
    closeSync(this.active.fd);
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = undefined;
    if (this.pending === 0) {
      // Everything was delivered: no segment is needed any more.
      for (const seg of this.segments) rmSync(seg.path, { force: true });
      this.cursor = { seq: this.active.seg.seq + 1, offset: 0 };
    }
    this.saveCursor();
    rmSync(this.lockPath, { force: true });
  }

  private finishSegment(seg: Segment): void {
    if (this.readFd?.seq === seg.seq) {
      closeSync(this.readFd.fd);
      this.readFd = undefined;
    }
    unlinkSync(seg.path);
    this.total -= seg.size;
    this.segments.splice(this.segments.indexOf(seg), 1);
    const next = this.segments[0];
    this.cursor = { seq: next ? next.seq : this.active.seg.seq, offset: 0 };
    this.refusing = false;
    this.saveCursor();
  }

  private reader(seg: Segment): number {
    if (this.readFd?.seq !== seg.seq) {
      if (this.readFd) closeSync(this.readFd.fd);
      this.readFd = { seq: seg.seq, fd: openSync(seg.path, "r") };
    }
    return this.readFd.fd;
  }

  private roll(): void {
    if (this.options.fsync !== "never") this.sync();
    closeSync(this.active.fd);
    this.active = this.startSegment(this.active.seg.seq + 1);
  }

  private startSegment(seq: number): { seg: Segment; fd: number } {
    const seg: Segment = { seq, path: join(this.options.dir, `${String(seq).padStart(16, "0")}.ndjson`), size: 0 };
    const fd = openSync(seg.path, "a", 0o600);
    this.segments.push(seg);
    return { seg, fd };
  }

  private saveCursor(): void {
    const path = join(this.options.dir, "cursor.json");
    writeFileSync(`${path}.tmp`, JSON.stringify(this.cursor));
    renameSync(`${path}.tmp`, path);
  }
}

function readCursor(path: string): { seq: number; offset: number } {
  try {
    const { seq, offset } = JSON.parse(readFileSync(path, "utf8")) as { seq: unknown; offset: unknown };
    if (Number.isSafeInteger(seq) && Number.isSafeInteger(offset) && (offset as number) >= 0) return { seq: seq as number, offset: offset as number };
  } catch {
    // none yet, or unreadable: start from the oldest segment
  }
  return { seq: 0, offset: 0 };
}

/** Cuts a segment back to its last newline; 1 when there was a torn line, else 0. */
function cutTornTail(seg: Segment): number {
  if (seg.size === 0) return 0;
  const fd = openSync(seg.path, "r+");
  try {
    const tail = Buffer.allocUnsafe(Math.min(seg.size, 64 * 1024));
    let end = seg.size;
    for (;;) {
      const start = Math.max(0, end - tail.length);
      const got = readAt(fd, tail.subarray(0, end - start), start);
      const nl = tail.subarray(0, got).lastIndexOf(NEWLINE);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep === seg.size) return 0;
        ftruncateSync(fd, keep);
        seg.size = keep;
        return 1;
      }
      if (start === 0) {
        ftruncateSync(fd, 0);
        seg.size = 0;
        return 1;
      }
      end = start;
    }
  } finally {
    closeSync(fd);
  }
}

function countLines(path: string, from: number): number {
  const bytes = readFileSync(path);
  return countNewlines(bytes.subarray(from), bytes.length - from);
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let at = bytes.indexOf(NEWLINE); at >= 0 && at < end; at = bytes.indexOf(NEWLINE, at + 1)) n++;
  return n;
}

function readAt(fd: number, into: Buffer, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function writeAll(fd: number, bytes: Buffer, length: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, done, length - done);
}

/** The spool's lock: our pid in `path`, unless a live process holds it. */
function takeLock(path: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number(readFileSync(path, "utf8"));
    // Our own pid is a live owner too: another sink of this process holds the spool.
    if (!alive(owner)) {
      unlinkSync(path);
      continue;
    }
    throw new Error(`the spool ${path.slice(0, -5)} is in use by process ${owner}`);
  }
  throw new Error(`the spool lock ${path} could not be taken`);
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
