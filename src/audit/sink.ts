/**
 * Where decision-log events go. A sink takes each event as one line of JSON, already masked;
 * `write` never blocks the decision and never throws: what a sink cannot keep, it drops and
 * reports through the listener the logger gives it, so drops are counted, not silent. Durable
 * sinks (file, HTTP) also say whether they have room (`accepting`), for callers who fail closed.
 */

/**
 * Why an event was dropped: the drop rule asked for it; the in-memory queue (`queue_full`) or
 * the disk spool (`spool_full`) was at its cap; it was larger than a sink takes; the sink could
 * not write at all; it came after `close()`; or it was a line torn by a crash mid-append, cut
 * from the spool when the sink started again (`torn`).
 */
export type DropReason = "drop_rule" | "queue_full" | "spool_full" | "too_large" | "write_failed" | "closed" | "torn";

export type DropListener = (reason: DropReason, count: number) => void;

export interface Sink {
  /** A short name for metrics and messages (`file`, `http`, `console`). */
  readonly name: string;
  /** Takes one event as a line of JSON (without the newline). */
  write(line: string): void;
  /**
   * Takes one event as the UTF-8 bytes of that line, `bytes[0..length)`, which the sink copies
   * before it returns (the logger reuses the buffer). Sinks that have it get the logger's bytes
   * without a string being made (absent: `write`).
   */
  writeBytes?(bytes: Uint8Array, length: number): void;
  /**
   * Takes one event written straight into the sink's queue: `write(bytes, at, end, arg)` writes
   * the line's UTF-8 bytes from `at`, not past `end`, and returns where they end, or a negative
   * number when it wrote nothing to keep. Returns what `write` returned, -1 without calling it
   * when the queue has no room for the line in one piece now (the caller then hands the line to
   * `writeBytes`), or 0 when the sink dropped the event (closed, failed; counted). Sinks that
   * have it get the logger's lines without a copy, when they are its only sink.
   */
  writeInPlace?<T>(write: (bytes: Uint8Array, at: number, end: number, arg: T) => number, arg: T): number;
  /**
   * Resolves once everything written so far has reached its destination (or was dropped); a
   * durable sink resolves false when a delivery failed meanwhile (its events stay spooled).
   */
  flush(): Promise<boolean | void>;
  /** Flushes, then releases files, timers and connections. */
  close(): Promise<void>;
  /** Called by the logger once, so the sink can report what it drops. */
  onDrop(listener: DropListener): void;
  /** Whether an event written now would be kept (absent: always). */
  readonly accepting?: boolean;
  /**
   * Takes one of stepup's notice lines (a rollout record: `level`, `msg`, no `decision_id`),
   * written between the events; readers of decision events skip such lines. Sinks whose
   * destination takes events only (OPA's upload API) leave it out, and get no notices.
   */
  notice?(line: string): void;
}

/** Keeps the listeners of a sink and reports to them. */
export class DropReporter {
  private readonly listeners: DropListener[] = [];
  private readonly counts = new Map<DropReason, number>();

  add(listener: DropListener): void {
    this.listeners.push(listener);
  }

  report(reason: DropReason, count = 1): void {
    if (count <= 0) return;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + count);
    for (const listener of this.listeners) listener(reason, count);
  }

  /** How many events were dropped, by reason, since the sink started. */
  get dropped(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }
}
