/**
 * The HTTP sink: uploads events the way OPA's decision-log plugin does, so any collector that
 * takes OPA's decision logs takes stepup's — a POST of a gzip-compressed JSON array to
 * `<url>/logs` (Content-Type application/json, Content-Encoding gzip), each upload at most
 * `uploadSizeLimitBytes` compressed, every `minDelayMs`–`maxDelayMs`. Events wait in a bounded
 * buffer; when it is full the oldest is dropped (as OPA does) and counted. A failed upload is
 * retried with exponential backoff and jitter, and its events stay at the head of the buffer.
 * Headers (an Authorization token) are sent, never logged.
 */
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import { axios } from "../../lazy.js";
import { DropReporter, type DropListener, type Sink } from "../sink.js";

const gzip = promisify(gzipCb);

export interface HttpSinkOptions {
  /** The service's base URL, as in OPA's `services` (e.g. http://127.0.0.1:9000). */
  readonly url: string;
  /** The path under it; OPA's default is /logs. */
  readonly resource?: string;
  /** Extra request headers, e.g. Authorization. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest compressed upload, in bytes (OPA's default: 32768). */
  readonly uploadSizeLimitBytes?: number;
  /** Events kept while waiting for an upload (OPA's default: 10000). */
  readonly bufferSizeLimitEvents?: number;
  /** Delay between periodic uploads, picked at random in [min, max] ms (default 5–10 s). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** First retry delay after a failure; it grows 1.6× per failure up to maxDelayMs (OPA's backoff). */
  readonly retryBaseMs?: number;
  /** Request timeout in ms (default 10 s). */
  readonly timeoutMs?: number;
  /** How long close() keeps trying to upload what is left (default 5 s). */
  readonly closeTimeoutMs?: number;
}

/** What the sink has done so far. */
export interface HttpSinkStats {
  readonly pending: number;
  readonly uploadedEvents: number;
  readonly uploadedChunks: number;
  readonly failedUploads: number;
  readonly dropped: Readonly<Record<string, number>>;
}

export class HttpSink implements Sink {
  readonly name = "http";
  private readonly endpoint: string;
  private readonly options: Required<Omit<HttpSinkOptions, "headers" | "url" | "resource">>;
  private readonly headers: Record<string, string>;
  private readonly drops = new DropReporter();
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private uploading: Promise<boolean> | undefined;
  private retries = 0;
  private ratio = 8;
  private closed = false;
  private counts = { uploadedEvents: 0, uploadedChunks: 0, failedUploads: 0 };

  constructor(options: HttpSinkOptions) {
    this.endpoint = options.url.replace(/\/+$/, "") + (options.resource ?? "/logs");
    this.options = {
      uploadSizeLimitBytes: options.uploadSizeLimitBytes ?? 32_768,
      bufferSizeLimitEvents: options.bufferSizeLimitEvents ?? 10_000,
      minDelayMs: options.minDelayMs ?? 5_000,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      retryBaseMs: options.retryBaseMs ?? 100,
      timeoutMs: options.timeoutMs ?? 10_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
    };
    this.headers = { ...options.headers, "Content-Type": "application/json", "Content-Encoding": "gzip" };
  }

  write(line: string): void {
    if (this.closed) return this.drops.report("closed");
    this.buffer.push(line);
    this.trim();
    this.schedule(this.periodicDelay());
  }

  /** Uploads everything buffered now; resolves once the buffer is empty or an upload failed. */
  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + this.options.closeTimeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      if (!(await this.drain())) await sleep(Math.min(this.backoff(), Math.max(0, deadline - Date.now())));
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drops.report("closed", this.buffer.length);
    this.buffer = [];
  }

  onDrop(listener: DropListener): void {
    this.drops.add(listener);
  }

  get stats(): HttpSinkStats {
    return { pending: this.buffer.length, ...this.counts, dropped: this.drops.dropped };
  }

  /** Uploads until the buffer is empty; false when an upload failed (a retry is then scheduled). */
  private async drain(): Promise<boolean> {
    while (this.uploading) await this.uploading;
    clearTimeout(this.timer);
    this.timer = undefined;
    let ok = true;
    while (ok && this.buffer.length > 0) {
      this.uploading = this.uploadOne();
      ok = await this.uploading;
      this.uploading = undefined;
    }
    if (!ok && !this.closed) this.schedule(this.backoff(), true);
    return ok;
  }

  private schedule(delay: number, force = false): void {
    if (this.closed || (this.timer && !force)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delay);
    this.timer.unref();
  }

  /** Takes the next chunk off the buffer and posts it; puts it back if the post fails. */
  private async uploadOne(): Promise<boolean> {
    const next = await this.nextChunk();
    if (!next) return true;
    const { chunk, lines } = next;
    try {
      const response = await axios().post(this.endpoint, chunk, {
        headers: this.headers,
        timeout: this.options.timeoutMs,
        maxRedirects: 0,
        transformRequest: [(data: unknown) => data],
        validateStatus: () => true,
      });
      if (response.status < 200 || response.status >= 300) throw new Error(`status ${response.status}`);
      this.counts.uploadedEvents += lines.length;
      this.counts.uploadedChunks++;
      this.retries = 0;
      return true;
    } catch {
      this.counts.failedUploads++;
      this.retries++;
      this.buffer.unshift(...lines);
      this.trim();
      return false;
    }
  }

  /**
   * Takes off the buffer the longest run of events whose gzipped JSON array fits the upload
   * limit. Lines leave the buffer before any await, so concurrent writes and trims cannot shift
   * them; what does not fit goes back to the head.
   */
  private async nextChunk(): Promise<{ chunk: Buffer; lines: string[] } | undefined> {
    const limit = this.options.uploadSizeLimitBytes;
    while (this.buffer.length > 0) {
      let count = 0;
      let bytes = 2;
      for (const line of this.buffer) {
        if (count > 0 && bytes + line.length + 1 > limit * this.ratio) break;
        bytes += line.length + 1;
        count++;
      }
      const lines = this.buffer.splice(0, count);
      while (lines.length > 0) {
        const json = `[${lines.join(",")}]`;
        const chunk = await gzip(json);
        if (chunk.byteLength <= limit) {
          this.ratio = Math.min(20, Math.max(1, json.length / chunk.byteLength));
          return { chunk, lines };
        }
        if (lines.length === 1) {
          // One event larger than an upload may be: OPA drops it too.
          lines.pop();
          this.drops.report("too_large");
        } else {
          this.buffer.unshift(...lines.splice(Math.ceil(lines.length / 2)));
        }
      }
    }
    return undefined;
  }

  private trim(): void {
    const excess = this.buffer.length - this.options.bufferSizeLimitEvents;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.drops.report("buffer_full", excess);
    }
  }

  private periodicDelay(): number {
    const { minDelayMs, maxDelayMs } = this.options;
    return minDelayMs + Math.random() * (maxDelayMs - minDelayMs);
  }

  /** OPA's backoff: base × 1.6^retries, ±20% jitter, capped at the maximum delay. */
  private backoff(): number {
    const { retryBaseMs, maxDelayMs } = this.options;
    const delay = Math.min(maxDelayMs, retryBaseMs * 1.6 ** Math.max(0, this.retries - 1));
    return delay * (0.8 + Math.random() * 0.4);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
