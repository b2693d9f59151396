/**
 * The HTTP sink: uploads events the way OPA's decision-log plugin does, so any collector that
 * takes OPA's decision logs takes stepup's — a POST of a gzip-compressed JSON array to
 * `<url>/logs`, each upload at most `uploadSizeLimitBytes` compressed, every
 * `minDelayMs`–`maxDelayMs` or as soon as an upload is full. Durable: events wait in the sink's
 * disk spool while the collector is slow or down and are delivered in order when it answers
 * again, at least once (a retried upload may arrive twice: de-duplicate on `decision_id`).
 * Headers (an Authorization token) are sent, never logged.
 */
import { DurableSink, type DurableSinkStats, type SpoolOptions } from "../spool/durable-sink.js";

export interface HttpSinkOptions extends SpoolOptions {
  /** The service's base URL, as in OPA's `services` (e.g. http://127.0.0.1:9000). */
  readonly url: string;
  /** The path under it; OPA's default is /logs. */
  readonly resource?: string;
  /** Extra request headers, e.g. Authorization. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest compressed upload, in bytes (OPA's default: 32768). */
  readonly uploadSizeLimitBytes?: number;
  /** Delay before a part-filled upload, picked at random in [min, max] ms (default 5–10 s, as OPA). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** First retry delay after a failure; it grows 1.6× per failure up to `maxRetryDelayMs` (OPA's backoff). */
  readonly retryBaseMs?: number;
  /** The longest wait between retries (default 30 s). */
  readonly maxRetryDelayMs?: number;
  /** Timeout of one upload in ms (default 10 s); doubled, up to `maxTimeoutMs`, while a single event times out. */
  readonly timeoutMs?: number;
  readonly maxTimeoutMs?: number;
  /** The longest `Retry-After` honoured (default 5 min). */
  readonly maxRetryAfterMs?: number;
}

export type HttpSinkStats = DurableSinkStats;

export class HttpSink extends DurableSink {
  readonly name = "http";

  constructor(options: HttpSinkOptions) {
    const endpoint = options.url.replace(/\/+$/, "") + (options.resource ?? "/logs");
    const timeoutMs = options.timeoutMs ?? 10_000;
    super(
      {
        kind: "http",
        options: {
          endpoint,
          headers: { ...options.headers },
          uploadSizeLimitBytes: options.uploadSizeLimitBytes ?? 32_768,
          minDelayMs: options.minDelayMs ?? 5_000,
          maxDelayMs: Math.max(options.minDelayMs ?? 5_000, options.maxDelayMs ?? 10_000),
          retryBaseMs: options.retryBaseMs ?? 100,
          maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
          timeoutMs,
          maxTimeoutMs: Math.max(timeoutMs, options.maxTimeoutMs ?? 120_000),
          maxRetryAfterMs: options.maxRetryAfterMs ?? 300_000,
        },
      },
      endpoint,
      options,
    );
  }
}
