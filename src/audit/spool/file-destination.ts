/**
 * Delivery into an NDJSON file, rotated by size the way logrotate does it (`decisions.ndjson` →
 * `.1` → `.2` …, optionally gzipped), which every log shipper follows. After each write the file
 * is checked: when it was removed (its folder deleted, say), the batch just written went into a
 * file no one can read, so the folder and the file are made again and the batch is written anew;
 * the events written into the removed file before are counted and reported. A file moved away
 * (an outside rotation) is reopened under its name.
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { backoff, type Delivered, type Destination, type Notice, type RetryLater } from "./destination.js";
import type { Peeked } from "./segments.js";

export interface FileDestinationOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly compress: boolean;
  readonly mode: number;
}

export class FileDestination implements Destination {
  readonly batchBytes = 1024 * 1024;
  readonly batchLines = Infinity;
  private file: { fd: number; ino: number; size: number; lines: number } | undefined;
  private compressing: Promise<void> = Promise.resolve();
  private failures = 0;
  /** Events that were in a file when it was removed. */
  inRemovedFile = 0;

  constructor(private readonly options: FileDestinationOptions, private readonly notice: (n: Notice) => void) {}

  linger(): number {
    return 0;
  }

  async deliver(batch: Peeked): Promise<Delivered | RetryLater> {
    try {
      let file = this.file ?? this.open();
      // The lines that fit before the file reaches its size; at least one in an empty file.
      let lines = 0;
      while (lines < batch.ends.length && file.size + batch.ends[lines]! <= this.options.maxBytes) lines++;
      if (lines === 0 && file.size > 0) {
        await this.rotate();
        file = this.open();
        while (lines < batch.ends.length && batch.ends[lines]! <= this.options.maxBytes) lines++;
      }
      lines = Math.max(1, lines);
      const length = batch.ends[lines - 1]!;
      let done = 0;
      while (done < length) done += writeSync(file.fd, batch.bytes, done, length - done);
      if (this.removed(file)) {
        this.inRemovedFile += file.lines;
        this.notice({ level: "error", msg: "decision log file removed; writing a new one", path: this.options.path, events_in_removed_file: file.lines });
        this.closeFile();
        // The batch went into the removed file: write it again into the new one.
        return { retryInMs: 0, reason: "file removed" };
      }
      file.size += length;
      file.lines += lines;
      this.failures = 0;
      return { lines };
    } catch (err) {
      this.closeFile();
      this.failures++;
      if (this.failures === 1) this.notice({ level: "error", msg: "decision log file cannot be written; events stay in the spool", path: this.options.path, error: (err as Error).message });
      return { retryInMs: backoff(this.failures, 100, 5_000), reason: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    this.closeFile();
    await this.compressing;
  }

  private open(): NonNullable<FileDestination["file"]> {
    mkdirSync(dirname(this.options.path), { recursive: true });
    const fd = openSync(this.options.path, "a", this.options.mode);
    const st = fstatSync(fd);
    this.file = { fd, ino: st.ino, size: st.size, lines: 0 };
    return this.file;
  }

  /** True when the file we hold was unlinked; a file moved aside is merely reopened next time. */
  private removed(file: NonNullable<FileDestination["file"]>): boolean {
    if (fstatSync(file.fd).nlink === 0) return true;
    try {
      if (statSync(this.options.path).ino !== file.ino) this.closeFile();
    } catch {
      // The name is gone but the file is linked elsewhere (moved away): reopen under the name.
      this.closeFile();
    }
    return false;
  }

  private closeFile(): void {
    if (!this.file) return;
    try {
      closeSync(this.file.fd);
    } catch {
      // already closed
    }
    this.file = undefined;
  }

  private async rotate(): Promise<void> {
    this.closeFile();
    await this.compressing;
    const { path, maxFiles, compress } = this.options;
    const ext = compress ? ".gz" : "";
    rmSync(`${path}.${maxFiles}${ext}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) moveIfThere(`${path}.${i}${ext}`, `${path}.${i + 1}${ext}`);
    if (maxFiles === 0) rmSync(path, { force: true });
    else if (!compress) moveIfThere(path, `${path}.1`);
    else {
      const plain = `${path}.1.tmp`;
      moveIfThere(path, plain);
      this.compressing = pipeline(createReadStream(plain), createGzip(), createWriteStream(`${path}.1.gz`, { mode: this.options.mode }))
        .then(() => rmSync(plain, { force: true }))
        .catch((err: unknown) => this.notice({ level: "warn", msg: "rotated decision log not compressed", path: plain, error: String(err) }));
    }
  }
}

function moveIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
