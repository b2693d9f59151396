/**
 * Thread counts are bounded by the machine. `batch --workers 10000` and `replay --threads 10000`
 * once started ten thousand threads and grew the process to 11–12 GB before it died; a pool
 * asked for more than `maxThreads()` (one per core, two on a one-core machine) now starts that
 * many, and the CLI says so on stderr and goes on.
 */
import { availableParallelism } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { maxThreads } from "../../src/engine/batch/threads.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios, testStepup } from "../helpers.js";

let dir: string;
let log: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-threads-"));
  log = join(dir, "decisions.ndjson");
  const logger = new DecisionLogger({ sinks: [new FileSink({ path: log })] });
  const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
  for (const scenario of await scenarios()) stepup.decide(scenario.input);
  await logger.close();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("thread counts bounded by the machine", () => {
  it("is one per core, two on a one-core machine", () => {
    expect(maxThreads()).toBe(Math.max(2, availableParallelism()));
  });

  it("starts no more pool threads than that, however many are asked for", async () => {
    const pool = await (await testStepup()).pool({ size: 10_000 });
    try {
      expect(pool.size).toBe(maxThreads());
      const inputs = (await scenarios()).map((s) => s.input);
      const stepup = await testStepup();
      expect((await pool.decideMany(inputs)).map((d) => d.outcome)).toEqual(inputs.map((i) => stepup.decide(i).outcome));
    } finally {
      await pool.close();
    }
  });

  it("batch --workers 10000 decides on at most one thread per core, and says so", async () => {
    const inputs = (await scenarios()).map((s) => s.input);
    const result = await runCli(["batch", "-", "--workers", "10000"], `${inputs.map((i) => JSON.stringify(i)).join("\n")}\n`);
    expect(result.stderr).toBe(`stepup: --workers 10000 is more threads than this machine runs at once; using ${maxThreads()}\n`);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(inputs.length);
  });

  it("replay --threads 10000 replays on at most one thread per core, and says so", async () => {
    const result = await runCli(["replay", log, "--bundle", inject("bundlePath"), "--store", join(dir, "no-store"), "--threads", "10000", "--json"]);
    expect(result.stderr).toBe(`stepup: --threads 10000 is more threads than this machine runs at once; using ${maxThreads()}\n`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: (await scenarios()).length, reproduced: (await scenarios()).length });
  });
});
