/**
 * The memory suite reads each checkpoint after a compacting collection and a pause, in a process
 * whose young generation has its full size from the start. Those choices take V8's sizing and
 * timing out of the readings; this checks they do not take a leak out with them: the same child,
 * keeping every decision alive, must show it in RSS and in the JS heap, while the child as the
 * suite runs it stays flat.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SEMI_SPACE_MIB } from "../../bench/suites/memory.js";
import { scenarios } from "../helpers.js";

interface Checkpoint {
  decisions: number;
  rss: number;
  heap_used: number;
  young_generation: number;
  wasm_memory: number;
  failures: number;
}

const counts = [20_000, 40_000, 60_000];
let dir: string;
let corpusPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-memory-child-"));
  corpusPath = join(dir, "corpus.json");
  await writeFile(corpusPath, JSON.stringify((await scenarios()).map((s) => s.input)));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

function run(leak: boolean): Promise<Checkpoint[]> {
  const args = ["--expose-gc", `--min-semi-space-size=${SEMI_SPACE_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`, "bench/children/memory.mjs"];
  if (leak) args.push("--leak");
  args.push(inject("bundlePath"), corpusPath, ...counts.map(String));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: { ...process.env, STEPUP_LIB: inject("libPath") } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`memory child failed: ${stderr}`));
      else resolve(stdout.trim().split("\n").map((line) => JSON.parse(line) as Checkpoint));
    });
  });
}

describe("the memory suite's readings", () => {
  it("stay flat without a leak and show one that keeps each decision", async () => {
    const [clean, leaky] = await Promise.all([run(false), run(true)]);
    for (const series of [clean, leaky]) {
      expect(series.map((c) => c.decisions)).toEqual(counts);
      expect(series.every((c) => c.failures === 0 && c.young_generation === series[0]!.young_generation)).toBe(true);
    }
    const first = clean[0]!;
    const last = clean.at(-1)!;
    expect(last.rss / first.rss).toBeLessThan(1.02);
    // The suite's own bound: the heap also holds the code and feedback V8 makes as it optimizes,
    // which differs by up to ~2 % of an 11 MiB heap from run to run; a leak of 14 bytes a decision
    // crosses it, and the leaky child below keeps ~1.6 KB a decision.
    expect(last.heap_used / first.heap_used).toBeLessThan(1.05);
    expect(last.wasm_memory).toBe(first.wasm_memory);

    // 40,000 decisions kept alive (~1.6 KB each): the heap grows by that, and RSS by much of it
    // (0.88–1.02 of the heap's growth in runs beside other work; part lands on pages already resident).
    const kept = (leaky.at(-1)!.heap_used - leaky[0]!.heap_used) / (counts.at(-1)! - counts[0]!);
    expect(kept).toBeGreaterThan(1000);
    expect(leaky.at(-1)!.rss - leaky[0]!.rss).toBeGreaterThan(0.5 * kept * (counts.at(-1)! - counts[0]!));
    expect(leaky.at(-1)!.rss / leaky[0]!.rss).toBeGreaterThan(1.05);
  });
});
