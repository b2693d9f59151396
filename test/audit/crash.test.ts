/**
 * Done when (crash safety): a process deciding and logging through the HTTP sink is killed with
 * SIGKILL at random points, 20 times, each run starting on the spool the last one left; then a
 * last run delivers what is left. Every event that was in the spool at a kill reaches the
 * collector, in order, each once after de-duplication on decision_id.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { scenarios } from "../helpers.js";
import { startCollector, type Collector } from "../support/collector.js";

const KILLS = 20;

describe("SIGKILL", () => {
  let dir: string;
  let collector: Collector;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-crash-"));
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts a child deciding and logging; resolves with it once it logs. */
  async function start(run: string, count: number | null) {
    const spoolDir = join(dir, "spool");
    const settings = join(dir, `${run}.json`);
    const options = { url: collector.url, spoolDir, minDelayMs: 5, maxDelayMs: 20, fsync: "never", closeTimeoutMs: 60_000 };
    await writeFile(settings, JSON.stringify({ sink: "http", prefix: run, count, options, inputs: (await scenarios()).map((s) => s.input) }));
    const child = spawn(process.execPath, ["test/support/log-child.mjs", inject("libPath"), inject("bundlePath"), settings], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    while (!out.includes('"ready"')) {
      if (child.exitCode !== null) throw new Error(`the child exited before logging: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { child, exited, output: () => out, errors: () => err };
  }

  /** The decision ids of the whole lines in the spool's segments. */
  async function spooled(): Promise<string[]> {
    const spoolDir = join(dir, "spool");
    const ids: string[] = [];
    for (const name of (await readdir(spoolDir)).filter((n) => n.endsWith(".ndjson")).sort()) {
      const lines = (await readFile(join(spoolDir, name), "utf8")).split("\n");
      // The last piece is empty, or a line torn by the kill: not appended.
      for (const line of lines.slice(0, -1)) ids.push(String((JSON.parse(line) as { decision_id: string }).decision_id));
    }
    return ids;
  }

  it(`delivers every event appended before each of ${KILLS} kills, once after de-duplication`, { timeout: 300_000 }, async () => {
    const appended = new Set<string>();
    for (let k = 0; k < KILLS; k++) {
      const run = await start(`k${String(k).padStart(2, "0")}`, null);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 900));
      run.child.kill("SIGKILL");
      await run.exited;
      for (const id of await spooled()) appended.add(id);
    }
    const last = await start("final", 0);
    expect(await last.exited, last.errors()).toBe(0);
    const done = JSON.parse(last.output().trim().split("\n").at(-1)!) as { stats: { pending: number } };
    expect(done.stats.pending).toBe(0);

    const arrived = collector.events().map((e) => String(e.decision_id));
    const distinct = [...new Set(arrived)];
    // Every event appended before a kill was delivered...
    const missing = [...appended].filter((id) => !distinct.includes(id));
    expect(missing).toEqual([]);
    expect(appended.size).toBeGreaterThan(KILLS);
    // ...in the order it was made (run by run, decision by decision)...
    const key = (id: string) => {
      const [run, n] = id.split("-");
      return [run!, Number(n)] as const;
    };
    const sorted = [...distinct].sort((a, b) => {
      const [ra, na] = key(a);
      const [rb, nb] = key(b);
      return ra === rb ? na - nb : ra < rb ? -1 : 1;
    });
    expect(distinct).toEqual(sorted);
    // ...and what arrived twice is a retried upload's, identified by its decision_id.
    expect(distinct.every((id) => /^k\d\d-\d+$/.test(id))).toBe(true);
  });
});
