/**
 * The NDJSON file sink, for log shippers (Filebeat, Fluent Bit, Vector): one event per line,
 * rotated by size the way logrotate does it (`decisions.ndjson` → `.1` → `.2` …, optionally
 * gzipped). Durable: events go through the sink's queue and disk spool to the file (see
 * spool/durable-sink.ts), so a decision never waits for the disk, and a file removed under the
 * sink (its folder deleted) is made again and gets every event from the removal on.
 */
import { resolve } from "node:path";
import { DurableSink, type SpoolOptions } from "../spool/durable-sink.js";

export interface FileSinkOptions extends SpoolOptions {
  /** The file events are written to; rotated files sit beside it. */
  readonly path: string;
  /** Rotate once the file holds this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Rotated files to keep (default 10); older ones are removed. */
  readonly maxFiles?: number;
  /** Gzip rotated files (`.1.gz`); the file being written stays plain. */
  readonly compress?: boolean;
  /** File mode; decision logs hold personal data, so owner and group only by default. */
  readonly mode?: number;
}

export class FileSink extends DurableSink {
  readonly name = "file";

  /** Notices (rollout records) go into the file between the events, in order. */
  notice(line: string): void {
    this.write(line);
  }
  readonly path: string;

  constructor(options: FileSinkOptions) {
    const path = resolve(options.path);
    super(
      {
        kind: "file",
        options: {
          path,
          maxBytes: Math.max(1, Math.floor(options.maxBytes ?? 64 * 1024 * 1024)),
          maxFiles: options.maxFiles ?? 10,
          compress: options.compress ?? false,
          mode: options.mode ?? 0o640,
        },
      },
      path,
      options,
    );
    this.path = path;
  }
}
