/**
 * A decision-log collector for tests: an HTTP server on 127.0.0.1 (free port) that takes OPA's
 * upload — POST of a gzip-compressed JSON array — and keeps each request, and that can serve a
 * bundle (for an OPA sidecar), answer with failures on demand (for retry tests), answer slowly
 * (for timeout tests) and go down and come back on the same port (for outage tests).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface Upload {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly compressedBytes: number;
  /** The request body as it came (gzip-compressed for OPA's uploads). */
  readonly raw: Buffer;
  readonly body: string;
  readonly events: Record<string, unknown>[];
}

export interface Collector {
  readonly url: string;
  readonly uploads: Upload[];
  /** Every event received, in arrival order. */
  events(filter?: (u: Upload) => boolean): Record<string, unknown>[];
  /** Answers the next `n` uploads with this status and headers (and does not keep them). */
  failNext(n: number, status?: number, headers?: Record<string, string>): void;
  /** Answers each upload only after `ms` per event in it (it keeps the upload even if the client gave up). */
  slow(ms: number): void;
  /** Failed answers given so far (failNext), each with the time it was given. */
  readonly failures: number[];
  /** Resolves once `count` events matching the filter have arrived, or rejects after `timeoutMs`. */
  waitFor(count: number, filter?: (u: Upload) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening (connections refused) until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startCollector(files: Record<string, Uint8Array> = {}): Promise<Collector> {
  const uploads: Upload[] = [];
  const failuresAt: number[] = [];
  let failures = 0;
  let failStatus = 503;
  let failHeaders: Record<string, string> = {};
  let msPerEvent = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method === "GET" && files[path]) {
        res.writeHead(200, { "Content-Type": "application/gzip" }).end(files[path]);
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      if (failures > 0) {
        failures--;
        failuresAt.push(Date.now());
        res.writeHead(failStatus, failHeaders).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      const events = JSON.parse(body) as Record<string, unknown>[];
      const keep = () => {
        uploads.push({ path, headers: req.headers, compressedBytes: raw.byteLength, raw, body, events });
        if (!res.destroyed) res.writeHead(204).end();
      };
      if (msPerEvent > 0) setTimeout(keep, msPerEvent * events.length);
      else keep();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const events = (filter: (u: Upload) => boolean = () => true) => uploads.filter(filter).flatMap((u) => u.events);
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    failures: failuresAt,
    events,
    failNext(n, status = 503, headers = {}) {
      failures = n;
      failStatus = status;
      failHeaders = headers;
    },
    slow(ms) {
      msPerEvent = ms;
    },
    async waitFor(count, filter, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (events(filter).length < count) {
        if (Date.now() > deadline) throw new Error(`collector got ${events(filter).length} of ${count} events in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop,
    start: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)),
    close: async () => {
      if (server.listening) await stop();
    },
  };
}

/** A free TCP port on 127.0.0.1 (probed; for servers that cannot be told to pick one). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
