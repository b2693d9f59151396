/**
 * The sinks' own promises: the file sink rotates by size and keeps a bounded number of files;
 * the HTTP sink uploads OPA-sized gzip batches, retries failures with backoff and after the
 * collector's Retry-After without losing or repeating events, keeps what it could not deliver in
 * its spool for the next start, and cuts (and counts) a line torn by a crash.
 */
import { appendFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLogEvents } from "../../src/audit/read-log.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import { startCollector, type Collector } from "../support/collector.js";

const line = (i: number, pad = 0) =>
  JSON.stringify({ labels: {}, decision_id: `d-${i}`, input: { pad: "x".repeat(pad) }, timestamp: new Date(0).toISOString() });
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `d-${from + i}`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-sinks-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("file sink", () => {
  it("rotates by size, keeps maxFiles rotated files, and loses nothing it keeps", async () => {
    const logs = join(dir, "rotate");
    const sink = new FileSink({ path: join(logs, "d.ndjson"), maxBytes: 4096, maxFiles: 3, spoolDir: join(dir, "rotate-spool") });
    for (let i = 0; i < 200; i++) {
      sink.write(line(i, 100));
      if (i % 10 === 9) await sink.flush();
    }
    await sink.close();
    expect((await readdir(logs)).sort()).toEqual(["d.ndjson", "d.ndjson.1", "d.ndjson.2", "d.ndjson.3"]);
    const seen: number[] = [];
    for (const file of ["d.ndjson.3", "d.ndjson.2", "d.ndjson.1", "d.ndjson"]) {
      for await (const e of readLogEvents([join(logs, file)])) seen.push(Number(e.decision_id.slice(2)));
    }
    // The newest events, in order, without a gap.
    expect(seen.at(-1)).toBe(199);
    expect(seen).toEqual(seen.map((_, i) => (seen[0] as number) + i));
    expect(sink.dropped).toEqual({});
    expect(sink.stats).toMatchObject({ appended: 200, delivered: 200, pending: 0 });
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
    const sink = new HttpSink({ url: collector.url, uploadSizeLimitBytes: 1024, spoolDir: join(dir, "split") });
    for (let i = 0; i < 300; i++) sink.write(JSON.stringify({ decision_id: `d-${i}`, n: Math.random() }));
    expect(await sink.flush()).toBe(true);
    expect(collector.uploads.length).toBeGreaterThan(1);
    for (const u of collector.uploads) expect(u.compressedBytes).toBeLessThanOrEqual(1024);
    expect(collector.events().map((e) => e.decision_id)).toEqual(ids(300));
    await sink.close();
  });

  it("drops an event larger than an upload may be, and counts it", async () => {
    collector.uploads.length = 0;
    const sink = new HttpSink({ url: collector.url, uploadSizeLimitBytes: 200, spoolDir: join(dir, "large") });
    sink.write(JSON.stringify({ decision_id: "big", blob: Array.from({ length: 400 }, () => Math.random()) }));
    sink.write(JSON.stringify({ decision_id: "small" }));
    await sink.close();
    expect(collector.events().map((e) => e.decision_id)).toEqual(["small"]);
    expect(sink.stats.dropped).toEqual({ too_large: 1 });
  });

  it("retries a failed upload with backoff, and after Retry-After, losing and repeating nothing", async () => {
    collector.uploads.length = 0;
    collector.failNext(3, 503, { "Retry-After": "1" });
    const sink = new HttpSink({ url: collector.url, retryBaseMs: 20, maxRetryDelayMs: 200, minDelayMs: 10, maxDelayMs: 10, spoolDir: join(dir, "retry") });
    for (let i = 0; i < 50; i++) sink.write(JSON.stringify({ decision_id: `d-${i}` }));
    await collector.waitFor(50, undefined, 15_000);
    const failures = collector.failures.slice(-3);
    // Each retry waited the second the collector asked for, not the 20 ms backoff.
    for (let i = 1; i < failures.length; i++) expect(failures[i]! - failures[i - 1]!).toBeGreaterThanOrEqual(900);
    await sink.close();
    expect(collector.events().map((e) => e.decision_id)).toEqual(ids(50));
    expect(sink.stats).toMatchObject({ pending: 0, delivered: 50, failedAttempts: 3, dropped: {} });
  });

  it("keeps what it could not deliver in its spool, and delivers it in order on the next start", async () => {
    collector.uploads.length = 0;
    const spoolDir = join(dir, "restart");
    await collector.stop();
    const first = new HttpSink({ url: collector.url, retryBaseMs: 20, maxRetryDelayMs: 50, closeTimeoutMs: 300, spoolDir });
    for (let i = 0; i < 30; i++) first.write(JSON.stringify({ decision_id: `d-${i}` }));
    await first.close();
    expect(first.stats).toMatchObject({ appended: 30, delivered: 0, pending: 30, dropped: {} });
    await collector.start();
    const second = new HttpSink({ url: collector.url, minDelayMs: 10, maxDelayMs: 10, spoolDir });
    for (let i = 30; i < 40; i++) second.write(JSON.stringify({ decision_id: `d-${i}` }));
    expect(await second.flush()).toBe(true);
    await second.close();
    expect(collector.events().map((e) => e.decision_id)).toEqual(ids(40));
  });

  it("cuts a line torn by a crash mid-append, counts it, and delivers the rest", async () => {
    collector.uploads.length = 0;
    const spoolDir = join(dir, "torn");
    await collector.stop();
    const first = new HttpSink({ url: collector.url, retryBaseMs: 20, maxRetryDelayMs: 50, closeTimeoutMs: 100, spoolDir });
    for (let i = 0; i < 10; i++) first.write(JSON.stringify({ decision_id: `d-${i}` }));
    await first.close();
    // What a process killed in the middle of an append leaves: the start of a line, no newline.
    const segment = (await readdir(spoolDir)).filter((n) => n.endsWith(".ndjson")).sort().at(-1)!;
    await appendFile(join(spoolDir, segment), '{"decision_id":"d-10","inp');
    await collector.start();
    const second = new HttpSink({ url: collector.url, minDelayMs: 10, maxDelayMs: 10, spoolDir });
    expect(await second.flush()).toBe(true);
    await second.close();
    expect(collector.events().map((e) => e.decision_id)).toEqual(ids(10));
    expect(second.stats.dropped).toEqual({ torn: 1 });
  });
});
