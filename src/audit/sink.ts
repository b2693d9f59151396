/**
 * Where decision-log events go. A sink takes each event as one line of JSON, already masked;
 * `write` never blocks the decision and never throws: what a sink cannot keep, it drops and
 * reports through the listener the logger gives it, so drops are counted, not silent.
 */

/** Why an event was dropped. */
export type DropReason = "drop_rule" | "buffer_full" | "too_large" | "write_failed" | "closed";

export type DropListener = (reason: DropReason, count: number) => void;

export interface Sink {
  /** A short name for metrics and messages (`file`, `http`, `console`). */
  readonly name: string;
  /** Takes one event as a line of JSON (without the newline). */
  write(line: string): void;
  /** Resolves once everything written so far has reached its destination (or was dropped). */
  flush(): Promise<void>;
  /** Flushes, then releases files, timers and connections. */
  close(): Promise<void>;
  /** Called by the logger once, so the sink can report what it drops. */
  onDrop(listener: DropListener): void;
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
