/**
 * Where a spool thread delivers: the contract between the spool (whole lines, in order, from the
 * cursor on) and a destination (a file, an HTTP collector). A destination takes a prefix of the
 * lines it is given or says when to try again; it never loses a line it reports delivered.
 */
import type { DropReason } from "../sink.js";
import type { Peeked } from "./segments.js";

export interface Delivered {
  /** Lines taken, a prefix of those given: delivered, or dropped as counted in `dropped`. */
  readonly lines: number;
  readonly dropped?: Partial<Record<DropReason, number>>;
}

export interface RetryLater {
  /** Try again after this long (backoff, `Retry-After`); the lines stay in the spool. */
  readonly retryInMs: number;
  readonly reason: string;
}

export interface Destination {
  /** How much to read from the spool for one delivery. */
  readonly batchBytes: number;
  readonly batchLines: number;
  /**
   * How long to wait, from the first line pending, for more before delivering a part-filled
   * batch (0: deliver at once). A flush or close delivers at once.
   */
  linger(batch: Peeked): number;
  deliver(batch: Peeked): Promise<Delivered | RetryLater>;
  close(): Promise<void>;
}

/** A message to the sink's own log (a removed file, a destination failing, what was dropped). */
export type Notice = Record<string, unknown> & { readonly msg: string; readonly level: "info" | "warn" | "error" };

/** OPA's backoff: base × 1.6^(retries-1), ±20% jitter, capped. */
export function backoff(retries: number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 1.6 ** Math.max(0, retries - 1));
  return delay * (0.8 + Math.random() * 0.4);
}
