/**
 * Replay on threads gives the report in-process replay gives, event for event: a log of several
 * revisions (one of them missing from the store), decisions that no longer reproduce, inputs that
 * no longer meet the contract, a line holding an array of events, CRLF endings and blank lines,
 * across many chunks; and it fails where in-process replay fails, with the same error.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { defaultThreads, THREADS_FROM_BYTES, verifyLogs, whatIfLogs } from "../../src/audit/replay-pool.js";
import { RevisionIndex, verify, whatIf, type RevisionSource } from "../../src/audit/replay.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { loadBundle, type Bundle } from "../../src/bundle/load.js";
import { BundleInvalidError, LogInvalidError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { sampleInputs } from "../support/arbitraries.js";
import { weightRaisedBundle } from "../support/bundles.js";
import { runCli } from "../helpers.js";

const PER_REVISION = 1500;

let dir: string;
let log: string;
let base: Bundle;
let candidate: Bundle;
let candidatePath: string;

/** A source holding the base and candidate revisions that records what it was asked for. */
function source(asked: string[] = [], broken?: string): RevisionSource {
  const index = new RevisionIndex(new Map([[base.revision, base], [candidate.revision, candidate]]));
  return {
    get: (revision) => {
      asked.push(revision);
      if (revision === broken) return Promise.reject(new BundleInvalidError(revision, "its archive is damaged"));
      return index.get(revision);
    },
  };
}

async function logOf(bundlePath: string, seed: number, name: string): Promise<string[]> {
  const path = join(dir, `${name}.ndjson`);
  const logger = new DecisionLogger({ sinks: [new FileSink({ path, maxBytes: 1024 ** 3 })] });
  const stepup = await Stepup.load(bundlePath, { onDecision: logger.onDecision, onError: () => {} });
  for (const [i, input] of sampleInputs(seed, PER_REVISION).entries()) {
    stepup.decideInput(input);
    if (i % 500 === 499) await logger.flush();
  }
  await logger.close();
  return (await readFile(path, "utf8")).trim().split("\n");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-replay-pool-"));
  candidatePath = (await weightRaisedBundle(dir, "candidate")).path;
  [base, candidate] = await Promise.all([loadBundle(inject("bundlePath")), loadBundle(candidatePath)]);
  const a = await logOf(inject("bundlePath"), 31, "base");
  const b = await logOf(candidatePath, 32, "candidate");
  // Interleaved, then altered: every 97th decision's outcome flipped (it no longer reproduces),
  // every 89th input broken (unreplayable), every 53rd named after a revision no store holds.
  const lines = a.flatMap((line, i) => [line, b[i] as string]).map((line, i) => {
    const event = JSON.parse(line) as { result: { outcome: string }; input: { now?: unknown }; bundles: Record<string, { revision: string }> };
    if (i % 97 === 0) event.result.outcome = event.result.outcome === "allow" ? "deny" : "allow";
    if (i % 89 === 0) event.input.now = "yesterday";
    if (i % 53 === 0) for (const b of Object.values(event.bundles)) b.revision = "gone";
    return JSON.stringify(event);
  });
  // One line holds three events as a JSON array (an OPA upload's body), one ends in CRLF, blank lines between.
  const array = `[${lines.slice(10, 13).join(",")}]`;
  const text = [...lines.slice(0, 10), array, `${lines[13]}\r`, "", ...lines.slice(14), ""].join("\n");
  log = join(dir, "mixed.ndjson");
  await writeFile(log, text);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("replay on threads", () => {
  it("verifies as in-process replay does, asking for each revision once", async () => {
    const askedInProcess: string[] = [];
    const askedOnThreads: string[] = [];
    const inProcess = await verify(readLogEvents([log]), source(askedInProcess), { examples: 20 });
    const onThreads = await verifyLogs([log], source(askedOnThreads), { examples: 20, threads: 2, mainThreadReplays: false });

    expect(onThreads).toEqual(inProcess);
    expect(inProcess.events).toBe(2 * PER_REVISION);
    expect(inProcess.revisions).toMatchObject({ [base.revision]: expect.any(Number), candidate: expect.any(Number), gone: expect.any(Number) });
    expect(inProcess.missing_revisions.gone).toBeGreaterThan(40);
    expect(inProcess.unreplayable).toBeGreaterThan(20);
    expect(inProcess.differed).toBeGreaterThan(20);
    expect(inProcess.examples).toHaveLength(20);
    expect(inProcess.reproduced + inProcess.differed + inProcess.unreplayable + inProcess.missing_revisions.gone!).toBe(2 * PER_REVISION);
    expect([...askedOnThreads].sort()).toEqual([...askedInProcess].sort());
    expect(new Set(askedOnThreads).size).toBe(askedOnThreads.length);
  });

  it("reports what a candidate would change as in-process what-if does", async () => {
    const inProcess = await whatIf(readLogEvents([log]), candidate, { examples: 30 });
    const onThreads = await whatIfLogs([log], candidate, { examples: 30, threads: 2, mainThreadReplays: false });
    expect(onThreads).toEqual(inProcess);
    expect(inProcess.changed_outcome).toBeGreaterThan(0);
    expect(inProcess.examples.length).toBeGreaterThan(0);
  });

  it("fails at the first bad line with the error in-process replay gives, counting lines across chunks", async () => {
    const text = await readFile(log, "utf8");
    const lines = text.split("\n");
    lines[2345] = '{"decision_id": 7}';
    const bad = join(dir, "bad.ndjson");
    await writeFile(bad, lines.join("\n"));
    const inProcess = await verify(readLogEvents([bad]), source()).catch((err: unknown) => err);
    const onThreads = await verifyLogs([bad], source(), { threads: 2, mainThreadReplays: false }).catch((err: unknown) => err);
    expect(inProcess).toBeInstanceOf(LogInvalidError);
    expect(onThreads).toBeInstanceOf(LogInvalidError);
    expect((onThreads as LogInvalidError).line).toBe(2346);
    expect((onThreads as LogInvalidError).message).toBe((inProcess as LogInvalidError).message);
  });

  it("fails with the store's error when a revision's bundle does not load", async () => {
    const inProcess = await verify(readLogEvents([log]), source([], "candidate")).catch((err: unknown) => err);
    const onThreads = await verifyLogs([log], source([], "candidate"), { threads: 2, mainThreadReplays: false }).catch((err: unknown) => err);
    expect(inProcess).toBeInstanceOf(BundleInvalidError);
    expect(onThreads).toBeInstanceOf(BundleInvalidError);
    expect((onThreads as Error).message).toBe((inProcess as Error).message);
  });

  it("shares the work between the main thread and a thread, and still counts in log order", async () => {
    // The built library, whose thread starts in ~0.2 s: the main thread takes the first chunks
    // while it starts, then both replay.
    const lib = (await import(resolve(inject("libPath")))) as typeof import("../../src/index.js");
    const logs = [log, log, log];
    const replayers = new Set<string>();
    // The library's own index: its errors are its own classes.
    const libSource = () => new lib.RevisionIndex(new Map([[base.revision, base], [candidate.revision, candidate]]));
    const inProcess = await verify(readLogEvents(logs), source(), { examples: 20 });
    const shared = await lib.verifyLogs(logs, libSource(), { examples: 20, threads: 2, onChunk: (who) => replayers.add(who) });
    expect(replayers).toEqual(new Set(["main", "thread"]));
    expect(shared).toEqual(inProcess);

    const whatIfShared = await lib.whatIfLogs(logs, candidate, { examples: 20, threads: 2 });
    expect(whatIfShared).toEqual(await whatIf(readLogEvents(logs), candidate, { examples: 20 }));

    // An error in a chunk the main thread replays is thrown in order too.
    const lines = (await readFile(log, "utf8")).split("\n");
    lines[40] = "not json";
    const bad = join(dir, "bad-early.ndjson");
    await writeFile(bad, lines.join("\n"));
    const error = await lib.verifyLogs([bad], libSource(), { threads: 2 }).catch((err: unknown) => err);
    expect((error as LogInvalidError).code).toBe("ERR_LOG_INVALID");
    expect((error as LogInvalidError).line).toBe(41);
  });

  it("uses threads by default only for logs large enough to win back their start", async () => {
    const cores = availableParallelism();
    expect(await defaultThreads([log])).toBe(1);
    const big = join(dir, "big.ndjson");
    await writeFile(big, Buffer.alloc(THREADS_FROM_BYTES, 0x20));
    expect(await defaultThreads([big])).toBe(cores);
    // Two files under the size each, over it together.
    const half = join(dir, "half.ndjson");
    await writeFile(half, Buffer.alloc(THREADS_FROM_BYTES / 2, 0x20));
    expect(await defaultThreads([half])).toBe(1);
    expect(await defaultThreads([half, log, half])).toBe(cores);
    // A gzip file counts by what it holds, not by its few kilobytes.
    const packed = join(dir, "big.ndjson.gz");
    await writeFile(packed, gzipSync(Buffer.alloc(THREADS_FROM_BYTES, 0x20)));
    expect(await defaultThreads([packed])).toBe(cores);
    expect(await defaultThreads(["-"])).toBe(cores);
  });

  it("gives the same report from the command line on one thread and on two, from a file, stdin or gzip", async () => {
    const args = ["replay", log, "--store", join(dir, "no-store"), "--bundle", inject("bundlePath"), candidatePath, "--json"];
    const [one, two] = await Promise.all([runCli([...args, "--threads", "1"]), runCli([...args, "--threads", "2"])]);
    expect(two.stderr).toBe("");
    expect(two.code).toBe(1); // some decisions were altered
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
    expect((await runCli([...args, "--threads", "0"])).stderr).toMatch(/--threads.*expected at least 1/);

    // The same log from stdin (threads by default) and gzipped.
    const text = await readFile(log, "utf8");
    const packed = join(dir, "mixed.ndjson.gz");
    await writeFile(packed, gzipSync(text));
    const rest = args.slice(2);
    const [stdin, gz] = await Promise.all([runCli(["replay", "-", ...rest], text), runCli(["replay", packed, ...rest, "--threads", "2"])]);
    expect(JSON.parse(stdin.stdout)).toEqual(JSON.parse(one.stdout));
    expect(JSON.parse(gz.stdout)).toEqual(JSON.parse(one.stdout));
  });
});
