/**
 * Done when (the sink suite): a million decisions at full speed into the file sink are all on
 * disk, none dropped; the log folder removed mid-run is made again and gets every event from the
 * removal on, and those in the removed file are counted; an HTTP collector down for 30 s gets
 * every event once it is back, in order; a collector slower than the timeout still gets every
 * event; at the spool's cap, drops are counted in the metric and in a log event of their own,
 * and deciding is unaffected.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger, type DropReport } from "../../src/audit/logger.js";
import { StepupMetrics } from "../../src/audit/metrics.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import type { Input } from "../../src/contracts/input.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios } from "../helpers.js";
import { startCollector, type Collector } from "../support/collector.js";

let dir: string;
let inputs: Input[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-durable-"));
  inputs = (await scenarios()).map((s) => s.input);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => JSON.stringify({ labels: {}, decision_id: `d-${i}`, input: { pad: "x".repeat(1200) }, timestamp: new Date(0).toISOString() });

/** Runs test/support/log-child.mjs to its end; its last report. */
async function runChild(settings: Record<string, unknown>): Promise<{ decided: number; stats: { appended: number; delivered: number; pending: number; dropped: Record<string, number> } }> {
  const file = join(dir, `child-${Date.now()}.json`);
  await writeFile(file, JSON.stringify({ ...settings, inputs }));
  const child = spawn(process.execPath, ["test/support/log-child.mjs", inject("libPath"), inject("bundlePath"), file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code, err).toBe(0);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Newlines in the files of a folder whose names start with `prefix`. */
async function linesIn(folder: string, prefix: string): Promise<number> {
  let n = 0;
  for (const name of (await readdir(folder)).filter((f) => f.startsWith(prefix))) {
    for await (const chunk of createReadStream(join(folder, name)) as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) n++;
    }
  }
  return n;
}

describe("file sink", () => {
  it("keeps all of 1,000,000 decisions made at full speed: every event on disk, none dropped", { timeout: 600_000 }, async () => {
    const logs = join(dir, "million");
    const report = await runChild({
      sink: "file",
      prefix: "m",
      count: 1_000_000,
      options: { path: join(logs, "decisions.ndjson"), maxBytes: 256 * 1024 ** 2, maxFiles: 100, spoolDir: join(dir, "million-spool"), closeTimeoutMs: 300_000 },
    });
    expect(report.decided).toBe(1_000_000);
    expect(report.stats).toMatchObject({ appended: 1_000_000, delivered: 1_000_000, pending: 0, dropped: {} });
    expect(await linesIn(logs, "decisions.ndjson")).toBe(1_000_000);
    const last = (await readFile(join(logs, "decisions.ndjson"), "utf8")).trimEnd().split("\n").at(-1)!;
    expect(JSON.parse(last).decision_id).toBe("m-999999");
  });

  it("makes the log folder again when it is removed mid-run; the events after it are on disk and those before are counted", async () => {
    const logs = join(dir, "removed");
    const path = join(logs, "decisions.ndjson");
    const sink = new FileSink({ path, spoolDir: join(dir, "removed-spool"), onNotice: () => {} });
    await sink.ready();
    const total = 40_000;
    for (let i = 0; i < total; i++) {
      sink.write(line(i));
      if (i === total / 2) await rm(logs, { recursive: true, force: true, maxRetries: 10 });
      // Pace the writes so that a busy machine's spool thread keeps up: this test is about the
      // removed folder, not the queue's cap (the 1,000,000-decision test runs at full speed).
      if (i % 1000 === 999) await sink.flush();
    }
    await sink.close();
    const kept = (await readFile(path, "utf8")).trimEnd().split("\n").map((l) => Number(JSON.parse(l).decision_id.slice(2)));
    const { inRemovedFile, dropped } = sink.stats;
    expect(dropped).toEqual({});
    expect(inRemovedFile).toBeGreaterThan(0);
    // The file made again holds every event from the removal on, in order, without a gap...
    expect(kept.at(-1)).toBe(total - 1);
    expect(kept).toEqual(kept.map((_, i) => kept[0]! + i));
    expect(kept[0]).toBeLessThanOrEqual(total / 2 + 1);
    // ...and each event was either in it or counted as in the removed file.
    expect(kept.length + inRemovedFile).toBe(total);
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

  /** The ids in first-arrival order, and the ids that arrived more than once. */
  const received = () => {
    const seen = new Set<string>();
    const repeated: string[] = [];
    for (const e of collector.events()) {
      const id = String(e.decision_id);
      if (seen.has(id)) repeated.push(id);
      seen.add(id);
    }
    return { order: [...seen], repeated };
  };

  it("delivers every event, in order, after the collector was down for 30 s", { timeout: 120_000 }, async () => {
    collector.uploads.length = 0;
    const sink = new HttpSink({ url: collector.url, minDelayMs: 20, maxDelayMs: 50, retryBaseMs: 200, maxRetryDelayMs: 2_000, spoolDir: join(dir, "outage"), onNotice: () => {} });
    const logger = new DecisionLogger({ sinks: [sink], onReview: () => {} });
    let n = 0;
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, newId: () => `o-${n++}` });
    for (let i = 0; i < 1_000; i++) stepup.decideInput(inputs[i % inputs.length]!);
    await collector.waitFor(1_000);
    await collector.stop();
    const downAt = Date.now();
    // Decisions go on while the collector is down; their events wait in the spool.
    while (Date.now() - downAt < 30_000) {
      for (let i = 0; i < 500; i++) stepup.decideInput(inputs[i % inputs.length]!);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(sink.stats.pending).toBe(n - 1_000);
    await collector.start();
    await collector.waitFor(n, undefined, 60_000);
    await logger.close();
    const { order, repeated } = received();
    expect(order).toEqual(Array.from({ length: n }, (_, i) => `o-${i}`));
    // Refused connections deliver nothing twice.
    expect(repeated).toEqual([]);
    expect(sink.stats.failedAttempts).toBeGreaterThan(0);
    expect(sink.stats.dropped).toEqual({});
  });

  it("still delivers every event to a collector slower than the timeout", { timeout: 120_000 }, async () => {
    collector.uploads.length = 0;
    // 4 ms an event: an upload of more than 75 events takes longer than the 300 ms timeout.
    collector.slow(4);
    const total = 1_500;
    const sink = new HttpSink({ url: collector.url, minDelayMs: 10, maxDelayMs: 10, retryBaseMs: 20, maxRetryDelayMs: 100, timeoutMs: 300, spoolDir: join(dir, "slow"), onNotice: () => {} });
    for (let i = 0; i < total; i++) sink.write(JSON.stringify({ decision_id: `s-${i}`, n: i }));
    try {
      await collector.waitFor(total, undefined, 100_000);
      while (sink.stats.pending > 0) await new Promise((r) => setTimeout(r, 50));
    } finally {
      collector.slow(0);
    }
    await sink.close();
    const { order, repeated } = received();
    expect(order).toEqual(Array.from({ length: total }, (_, i) => `s-${i}`));
    expect(sink.stats.failedAttempts).toBeGreaterThan(0);
    // A duplicate comes only from an upload the sink gave up on and sent again: it arrives in
    // more than one upload, and is identified by its decision_id.
    const uploadsOf = (id: string) => collector.uploads.filter((u) => u.events.some((e) => e.decision_id === id)).length;
    for (const id of new Set(repeated)) expect(uploadsOf(id)).toBeGreaterThan(1);
  });

  it("drops at the spool's cap, counted in the metric and in a log event, and deciding goes on unaffected", async () => {
    await collector.stop();
    try {
      const metrics = new StepupMetrics();
      const reports: DropReport[] = [];
      const sink = new HttpSink({ url: collector.url, retryBaseMs: 50, maxSpoolBytes: 256 * 1024, closeTimeoutMs: 0, spoolDir: join(dir, "cap"), onNotice: () => {} });
      const logger = new DecisionLogger({ sinks: [sink], metrics, onReview: () => {}, onDropped: (r) => reports.push(r), overflow: "fail_closed" });
      await sink.ready();
      expect(logger.accepting).toBe(true);
      const plain = await Stepup.load(inject("bundlePath"), { newId: () => "id" });
      const logged = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, newId: () => "id" });
      const total = 2_000;
      for (let i = 0; i < total; i++) {
        const input = inputs[i % inputs.length]!;
        expect(logged.decideInput(input)).toEqual(plain.decideInput(input));
      }
      // A caller who fails closed is told the log is full, and why.
      const deadline = Date.now() + 10_000;
      while (logger.accepting && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(logger.accepting).toBe(false);
      expect(logger.fullError()).toMatchObject({ code: "ERR_DECISION_LOG_FULL", sinks: ["http"] });
      await logger.close();
      const { appended, dropped } = sink.stats;
      expect(dropped.spool_full).toBeGreaterThan(0);
      expect(appended + dropped.spool_full!).toBe(total);
      expect(await metrics.text()).toContain(`stepup_decision_log_dropped_total{sink="http",reason="spool_full"} ${dropped.spool_full}`);
      expect(reports.length).toBeGreaterThan(0);
      expect(reports.at(-1)).toMatchObject({ msg: "Dropped decision log events", sink: "http", reason: "spool_full", total: dropped.spool_full });
      expect(reports.reduce((s, r) => s + r.dropped, 0)).toBe(dropped.spool_full);
    } finally {
      await collector.start();
    }
  });
});
