/**
 * The sinks' own promises: the file sink rotates by size and keeps a bounded number of files;
 * the HTTP sink uploads OPA-sized gzip batches, retries failures with backoff without losing or
 * repeating events, and drops (and counts) the oldest events when its buffer is full.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLogEvents } from "../../src/audit/read-log.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import { startCollector, freePort, type Collector } from "../support/collector.js";

const line = (i: number, pad = 0) =>
  JSON.stringify({ labels: {}, decision_id: `d-${i}`, input: { pad: "x".repeat(pad) }, timestamp: new Date(0).toISOString() });

describe("file sink", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-file-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("rotates by size, keeps maxFiles rotated files, and loses nothing it keeps", async () => {
    const sink = new FileSink({ path: join(dir, "d.ndjson"), maxBytes: 4096, maxFiles: 3 });
    for (let i = 0; i < 200; i++) {
      sink.write(line(i, 100));
      if (i % 10 === 9) await sink.flush();
    }
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(["d.ndjson", "d.ndjson.1", "d.ndjson.2", "d.ndjson.3"]);
    const ids: number[] = [];
    for (const file of ["d.ndjson.3", "d.ndjson.2", "d.ndjson.1", "d.ndjson"]) {
      for await (const e of readLogEvents([join(dir, file)])) ids.push(Number(e.decision_id.slice(2)));
    }
    // The newest events, in order, without a gap.
    expect(ids.at(-1)).toBe(199);
    expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
    expect(sink.dropped).toEqual({});
  });
});

describe("HTTP sink", () => {
  let collector: Collector;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.close();
  });

  it("splits uploads at the size limit, compressed, as OPA does", async () => {
    collector.uploads.length = 0;
    const sink = new HttpSink({ url: collector.url, uploadSizeLimitBytes: 1024 });
    for (let i = 0; i < 300; i++) sink.write(JSON.stringify({ decision_id: `d-${i}`, n: Math.random() }));
    await sink.flush();
    expect(collector.uploads.length).toBeGreaterThan(1);
    for (const u of collector.uploads) expect(u.compressedBytes).toBeLessThanOrEqual(1024);
    expect(collector.events().map((e) => e.decision_id)).toEqual(Array.from({ length: 300 }, (_, i) => `d-${i}`));
    await sink.close();
  });

  it("drops an event larger than an upload may be, and counts it", async () => {
    collector.uploads.length = 0;
    const sink = new HttpSink({ url: collector.url, uploadSizeLimitBytes: 200 });
    sink.write(JSON.stringify({ decision_id: "big", blob: Array.from({ length: 400 }, () => Math.random()) }));
    sink.write(JSON.stringify({ decision_id: "small" }));
    await sink.close();
    expect(collector.events().map((e) => e.decision_id)).toEqual(["small"]);
    expect(sink.stats.dropped).toEqual({ too_large: 1 });
  });

  it("retries a failed upload with backoff, losing and repeating nothing", async () => {
    collector.uploads.length = 0;
    collector.failNext(3, 503);
    const sink = new HttpSink({ url: collector.url, retryBaseMs: 20, maxDelayMs: 200, minDelayMs: 10 });
    for (let i = 0; i < 50; i++) sink.write(JSON.stringify({ decision_id: `d-${i}` }));
    await collector.waitFor(50, undefined, 10_000);
    // The collector has the events before the sink has read the answer to their upload.
    await sink.flush();
    expect(collector.events().map((e) => e.decision_id)).toEqual(Array.from({ length: 50 }, (_, i) => `d-${i}`));
    expect(sink.stats).toMatchObject({ pending: 0, uploadedEvents: 50, failedUploads: 3, dropped: {} });
    await sink.close();
  });

  it("bounds its buffer: the oldest events go first, counted, and close() counts what it could not send", async () => {
    const port = await freePort(); // nothing listens there
    const sink = new HttpSink({ url: `http://127.0.0.1:${port}`, bufferSizeLimitEvents: 10, retryBaseMs: 10, closeTimeoutMs: 300 });
    const drops: [string, number][] = [];
    sink.onDrop((reason, n) => drops.push([reason, n]));
    for (let i = 0; i < 25; i++) sink.write(JSON.stringify({ decision_id: `d-${i}` }));
    expect(sink.stats.pending).toBe(10);
    await sink.close();
    expect(sink.stats.failedUploads).toBeGreaterThan(0);
    expect(sink.stats.dropped).toEqual({ buffer_full: 15, closed: 10 });
    expect(drops.reduce((n, [, c]) => n + c, 0)).toBe(25);
    sink.write(JSON.stringify({ decision_id: "late" }));
    expect(sink.stats.dropped).toEqual({ buffer_full: 15, closed: 11 });
  });
});
