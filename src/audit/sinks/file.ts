/**
 * The NDJSON file sink, for log shippers (Filebeat, Fluent Bit, Vector): one event per line,
 * rotated by size the way logrotate does it (`decisions.ndjson` → `.1` → `.2` …, optionally
 * gzipped), which every shipper follows. Writes are buffered by the stream so a decision never waits
 * for the disk; past `maxBufferedBytes` of unwritten lines new events are dropped and counted.
 */
import { basename, dirname, resolve } from "node:path";
import type { RotatingFileStream } from "rotating-file-stream";
import { rotatingFileStream } from "../../lazy.js";
import { DropReporter, type DropListener, type Sink } from "../sink.js";

export interface FileSinkOptions {
  /** The file events are written to; rotated files sit beside it. */
  readonly path: string;
  /** Rotate once the file holds this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Rotated files to keep (default 10); older ones are removed. */
  readonly maxFiles?: number;
  /** Gzip rotated files (`.1.gz`); the file being written stays plain. */
  readonly compress?: boolean;
  /** Unwritten bytes allowed in memory before events are dropped (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** File mode; decision logs hold personal data, so owner and group only by default. */
  readonly mode?: number;
}

export class FileSink implements Sink {
  readonly name = "file";
  readonly path: string;
  private readonly stream: RotatingFileStream;
  private readonly drops = new DropReporter();
  private readonly maxBuffered: number;
  private failed: Error | undefined;
  private closed = false;

  constructor(options: FileSinkOptions) {
    this.path = resolve(options.path);
    this.maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.stream = rotatingFileStream().createStream(basename(this.path), {
      path: `${dirname(this.path)}/`,
      size: `${Math.max(1, Math.floor(options.maxBytes ?? 64 * 1024 * 1024))}B`,
      rotate: options.maxFiles ?? 10,
      ...(options.compress ? { compress: "gzip" as const } : {}),
      mode: options.mode ?? 0o640,
    });
    this.stream.on("error", (err: Error) => {
      this.failed = err;
    });
  }

  write(line: string): void {
    if (this.closed) return this.drops.report("closed");
    if (this.failed) return this.drops.report("write_failed");
    if (this.stream.writableLength > this.maxBuffered) return this.drops.report("buffer_full");
    this.stream.write(`${line}\n`);
  }

  flush(): Promise<void> {
    if (this.failed || this.closed) return Promise.resolve();
    // Writes complete in order, so an empty write's callback means all before it are on disk.
    return new Promise((resolve) => this.stream.write("", () => resolve()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.failed) return;
    await new Promise<void>((resolve) => {
      this.stream.once("close", resolve);
      this.stream.end();
    });
  }

  onDrop(listener: DropListener): void {
    this.drops.add(listener);
  }

  /** What was dropped, by reason. */
  get dropped(): Readonly<Record<string, number>> {
    return this.drops.dropped;
  }
}
