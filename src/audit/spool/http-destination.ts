/**
 * Delivery to a decision-log collector the way OPA's decision-log plugin uploads: a POST of a
 * gzip-compressed JSON array to `<url>/logs` (Content-Type application/json, Content-Encoding
 * gzip), at most `uploadSizeLimitBytes` compressed. An upload that fails is tried again with OPA's
 * backoff (×1.6, ±20 % jitter) or after the collector's `Retry-After`. Each upload has its own
 * timeout; one that times out is tried again with half the events, down to one, and then with a
 * doubled timeout, so a collector slower than the timeout still gets everything. Headers (an
 * Authorization token) are sent, never logged.
 */
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import { backoff, type Delivered, type Destination, type Notice, type RetryLater } from "./destination.js";
import type { Peeked } from "./segments.js";

const gzip = promisify(gzipCb);

export interface HttpDestinationOptions {
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly uploadSizeLimitBytes: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryBaseMs: number;
  readonly maxRetryDelayMs: number;
  readonly timeoutMs: number;
  readonly maxTimeoutMs: number;
  /** The longest `Retry-After` honoured. */
  readonly maxRetryAfterMs: number;
}

/** Events per upload at most, before the size limit cuts it. */
const MAX_LINES = 10_000;

export class HttpDestination implements Destination {
  readonly batchBytes: number;
  private lines = MAX_LINES;
  private timeoutMs: number;
  private retries = 0;
  private ratio = 8;
  private readonly headers: Record<string, string>;
  private failing = false;

  constructor(private readonly options: HttpDestinationOptions, private readonly notice: (n: Notice) => void) {
    // Read enough for one upload at the best compression seen.
    this.batchBytes = options.uploadSizeLimitBytes * 20;
    this.timeoutMs = options.timeoutMs;
    this.headers = { ...options.headers, "Content-Type": "application/json", "Content-Encoding": "gzip" };
  }

  get batchLines(): number {
    return this.lines;
  }

  /** Waits up to the periodic delay for a full upload, as OPA's periodic trigger does. */
  linger(batch: Peeked): number {
    if (batch.bytes.length >= this.options.uploadSizeLimitBytes * this.ratio || batch.ends.length >= this.lines) return 0;
    const { minDelayMs, maxDelayMs } = this.options;
    return minDelayMs + Math.random() * (maxDelayMs - minDelayMs);
  }

  async deliver(batch: Peeked): Promise<Delivered | RetryLater> {
    const limit = this.options.uploadSizeLimitBytes;
    let count = 0;
    let bytes = 2;
    let start = 0;
    for (const end of batch.ends) {
      const length = end - start - 1;
      if (count > 0 && (bytes + length + 1 > limit * this.ratio || count >= this.lines)) break;
      bytes += length + 1;
      count++;
      start = end;
    }
    let body: Buffer;
    for (;;) {
      const json = arrayOf(batch, count);
      body = await gzip(json);
      if (body.byteLength <= limit) {
        this.ratio = Math.min(20, Math.max(1, json.length / body.byteLength));
        break;
      }
      // One event larger than an upload may be: OPA drops it too.
      if (count === 1) return { lines: 1, dropped: { too_large: 1 } };
      count = Math.ceil(count / 2);
    }
    try {
      const response = await fetch(this.options.endpoint, {
        method: "POST",
        headers: this.headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) {
        this.succeeded();
        return { lines: count };
      }
      const after = retryAfter(response.headers.get("retry-after"), this.options.maxRetryAfterMs);
      return this.failed(`HTTP ${response.status}`, after);
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      if (timedOut) {
        // Smaller uploads first; once a single event times out, a longer timeout.
        if (count > 1) this.lines = Math.max(1, Math.floor(count / 2));
        else this.timeoutMs = Math.min(this.options.maxTimeoutMs, this.timeoutMs * 2);
      }
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return this.failed(timedOut ? `no answer within ${this.timeoutMs} ms` : (cause ?? (err as Error).message), undefined);
    }
  }

  async close(): Promise<void> {}

  private succeeded(): void {
    this.retries = 0;
    if (this.failing) this.notice({ level: "info", msg: "decision log collector reachable again", url: this.options.endpoint });
    this.failing = false;
    // Grow back slowly towards full uploads after a timeout made them smaller.
    this.lines = Math.min(MAX_LINES, Math.ceil(this.lines * 1.25));
  }

  private failed(reason: string, retryAfterMs: number | undefined): RetryLater {
    this.retries++;
    if (!this.failing) this.notice({ level: "warn", msg: "decision log upload failed; events stay in the spool", url: this.options.endpoint, reason });
    this.failing = true;
    return { retryInMs: retryAfterMs ?? backoff(this.retries, this.options.retryBaseMs, this.options.maxRetryDelayMs), reason };
  }
}

/** The first `count` lines as a JSON array, without copying each line. */
function arrayOf(batch: Peeked, count: number): Buffer {
  const end = batch.ends[count - 1]!;
  const json = Buffer.allocUnsafe(end + 1);
  json[0] = 0x5b;
  batch.bytes.copy(json, 1, 0, end);
  // Each newline becomes the comma between events, the last one the closing bracket.
  let at = json.indexOf(0x0a, 1);
  while (at >= 0) {
    json[at] = at === end ? 0x5d : 0x2c;
    at = json.indexOf(0x0a, at + 1);
  }
  return json;
}

/** `Retry-After` in seconds or as an HTTP date, in ms, capped; undefined when absent or unreadable. */
export function retryAfter(value: string | null, maxMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - Date.now();
  }
  return Math.min(maxMs, Math.max(0, ms));
}
