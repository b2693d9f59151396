/**
 * Done when: replaying a log of at least 10,000 decisions on their own revisions reproduces 100% of
 * them; replaying against a revision with one changed weight reports exactly the transitions a
 * direct evaluation gives. The log is written by the decision logger's file sink (rotated into
 * several files) and replayed by the `stepup replay` command.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { RevisionIndex, sameJson, verify, type VerifyReport, type WhatIfReport } from "../../src/audit/replay.js";
import { loadBundle } from "../../src/bundle/load.js";
import type { MaskRule } from "../../src/contracts/decision-log.js";
import { BundleStore } from "../../src/fleet/store.js";
import type { Input } from "../../src/contracts/input.js";
import { Stepup } from "../../src/stepup.js";
import { runCli } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { weightRaisedBundle } from "../support/bundles.js";

const COUNT = 10_000;

describe("stepup replay", () => {
  let dir: string;
  let logDir: string;
  let storeDir: string;
  let candidatePath: string;
  let inputs: Input[];
  let changedWeight: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-replay-"));
    logDir = join(dir, "logs");
    storeDir = join(dir, "store");
    inputs = sampleInputs(8, COUNT);
    const sink = new FileSink({ path: join(logDir, "decisions.ndjson"), maxBytes: 4 * 1024 * 1024, maxFiles: 50 });
    const logger = new DecisionLogger({ sinks: [sink] });
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
    // Yield to the event loop now and then, as a server does between requests; a tight loop of
    // 10,000 decisions would otherwise outrun the sink's bounded buffer (and count drops).
    for (const [i, input] of inputs.entries()) {
      stepup.decideInput(input);
      if (i % 1000 === 999) await logger.flush();
    }
    await logger.close();
    expect(sink.dropped).toEqual({});
    await new BundleStore(storeDir).put(inject("bundlePath"));
    ({ path: candidatePath, weight: changedWeight } = await weightRaisedBundle(dir, "candidate"));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes the log in several rotated files", async () => {
    expect((await readdir(logDir)).length).toBeGreaterThan(1);
  });

  it(`reproduces all ${COUNT} logged decisions on their own revision`, async () => {
    const result = await runCli(["replay", logDir, "--store", storeDir, "--json"]);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report.events).toBe(COUNT);
    expect(report.reproduced).toBe(COUNT);
    expect(report.revisions).toEqual({ "test-revision": COUNT });
    expect(result.code).toBe(0);
  });

  it("finds a logged decision that the revision does not give", async () => {
    // One file of the log (the one being written) is enough here.
    const [first, ...rest] = (await readFile(join(logDir, "decisions.ndjson"), "utf8")).trim().split("\n");
    const event = JSON.parse(first as string);
    event.result.outcome = event.result.outcome === "allow" ? "deny" : "allow";
    const tampered = join(dir, "tampered.ndjson");
    await writeFile(tampered, [JSON.stringify(event), ...rest].join("\n"));
    const result = await runCli(["replay", tampered, "--store", storeDir, "--json"]);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report.events).toBe(rest.length + 1);
    expect(report.reproduced).toBe(rest.length);
    expect(report.differed).toBe(1);
    expect(report.examples.map((e) => e.decision_id)).toEqual([event.decision_id]);
    expect(result.code).toBe(1);
  });

  it("says which revisions the store lacks", async () => {
    const file = join(logDir, "decisions.ndjson");
    const lines = (await readFile(file, "utf8")).trim().split("\n").length;
    const result = await runCli(["replay", file, "--store", join(dir, "empty-store")]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${lines} name revision test-revision, which the store does not hold`);
  });

  it("asks for a missing revision once, however many events name it", async () => {
    const asked: string[] = [];
    const store = new BundleStore(join(dir, "empty-store"));
    const counting = { get: (revision: string) => (asked.push(revision), store.get(revision)) };
    const report = await verify(readLogEvents([join(logDir, "decisions.ndjson")]), counting);
    expect(report.missing_revisions["test-revision"]).toBeGreaterThan(1);
    expect(report.missing_revisions["test-revision"]).toBe(report.events);
    expect(asked).toEqual(["test-revision"]);
  });

  it(`reports exactly the transitions a direct evaluation gives, against a candidate with one weight changed`, async () => {
    const result = await runCli(["replay", logDir, "--against", candidatePath, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as WhatIfReport;

    const base = await Stepup.load(inject("bundlePath"));
    const candidate = await Stepup.load(candidatePath);
    const transitions: Record<string, number> = {};
    const byApp: Record<string, { decisions: number; changed: number }> = {};
    let prompts = { before: 0, after: 0 };
    for (const input of inputs) {
      const [from, to] = [base.evaluate(input).outcome, candidate.evaluate(input).outcome];
      transitions[`${from}→${to}`] = (transitions[`${from}→${to}`] ?? 0) + 1;
      const app = (byApp[input.target.app] ??= { decisions: 0, changed: 0 });
      app.decisions++;
      if (from !== to) app.changed++;
      prompts = { before: prompts.before + +(from === "step_up"), after: prompts.after + +(to === "step_up") };
    }
    const changed = Object.entries(transitions).filter(([t]) => t.split("→")[0] !== t.split("→")[1]);
    expect(changed.length, `raising ${changedWeight} changes some outcomes`).toBeGreaterThan(0);

    expect(report.candidate_revision).toBe("candidate");
    expect(report.events).toBe(COUNT);
    expect(report.transitions).toEqual(transitions);
    expect(report.changed_outcome).toBe(changed.reduce((n, [, c]) => n + c, 0));
    expect(Object.fromEntries(Object.entries(report.by_app).map(([a, v]) => [a, { decisions: v.decisions, changed: v.changed }]))).toEqual(byApp);
    expect(report.prompt_rate.before).toBeCloseTo(prompts.before / COUNT, 10);
    expect(report.prompt_rate.after).toBeCloseTo(prompts.after / COUNT, 10);

    // The same report for a person (on one file of the log, to keep the test short).
    const text = await runCli(["replay", join(logDir, "decisions.ndjson"), "--against", candidatePath]);
    expect(text.stdout).toMatch(/^what if: \d+ logged decisions evaluated on candidate revision candidate/);
    expect(text.stdout).toMatch(/prompt rate \(step_up\): [\d.]+% → [\d.]+%; deny rate: [\d.]+% → [\d.]+%/);
    expect(text.stdout).toMatch(/\ntransitions:\n {2}(allow|step_up|deny)→(allow|step_up|deny) +\d+\n/);
  });
});

describe("comparing verdicts", () => {
  it("judges JSON values equal exactly as isDeepStrictEqual does", () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    // Pairs that are often equal: a value and a copy with at most one change somewhere.
    const pair = fc.oneof(
      fc.tuple(value, value),
      value.chain((v) => fc.tuple(fc.constant(v), fc.oneof(fc.constant(structuredClone(v)), value.map((w) => tweak(v, w))))),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(sameJson(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(isDeepStrictEqual(a, b));
      }),
      { numRuns: 5000, seed: 3 },
    );
    expect(sameJson({ a: 0 }, { a: -0 })).toBe(false);
    expect(sameJson({ a: undefined }, {})).toBe(false);
    expect(sameJson([1, 2], { 0: 1, 1: 2 })).toBe(false);
  });
});

/** A copy of `v` with one nested value replaced by `w` (or `v`'s copy when it has nothing nested). */
function tweak(v: unknown, w: unknown): unknown {
  const copy = structuredClone(v);
  if (copy === null || typeof copy !== "object") return w;
  const keys = Object.keys(copy);
  if (keys.length === 0) return w;
  const key = keys[keys.length - 1] as string;
  (copy as Record<string, unknown>)[key] = tweak((copy as Record<string, unknown>)[key], w);
  return copy;
}

describe("replay of masked logs", () => {
  async function logWith(mask: MaskRule[], dir: string): Promise<string> {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.ndjson`);
    const logger = new DecisionLogger({ sinks: [new FileSink({ path })], mask });
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision });
    for (const input of sampleInputs(5, 300)) stepup.decideInput(input);
    await logger.close();
    return path;
  }

  it("compares masked parts of the result as masked, and names inputs masked on a field the policy reads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stepup-replay-mask-"));
    try {
      const bundle = await loadBundle(inject("bundlePath"));
      const source = new RevisionIndex(new Map([[bundle.revision, bundle]]));
      const resultMasked = await logWith(["/result/risk/contributions", { op: "upsert", path: "/result/tier", value: "?" }], dir);
      const clean = await verify(readLogEvents([resultMasked]), source);
      expect(clean).toMatchObject({ events: 300, reproduced: 300, differed: 0 });

      // Every logged input now claims a good reputation, which the policy reads: no decision is
      // replayed on it, and each is named as masked there rather than counted as differing.
      const inputMasked = await logWith([{ op: "upsert", path: "/input/network/reputation", value: "good" }], dir);
      const report = await verify(readLogEvents([inputMasked]), source);
      expect(report).toMatchObject({ events: 300, masked: 300, reproduced: 0, differed: 0 });
      expect(report.masked_paths).toEqual({ "/input/network/reputation": 300 });
      // Fields the policy does not read may be masked: those decisions replay as logged.
      const unread = await logWith([{ op: "truncate_ip", path: "/input/network/ip" }, "/input/target/resource", "/input/device/id"], dir);
      expect(await verify(readLogEvents([unread]), source)).toMatchObject({ events: 300, reproduced: 300, masked: 0 });
      // An upsert makes the objects on its way: where the device was null, the logged input now
      // has a device (holding only the redacted id), which the policy would read as one.
      const created = await logWith([{ op: "upsert", path: "/input/device/id", value: "redacted" }], dir);
      const withCreated = await verify(readLogEvents([created]), source);
      expect(withCreated.masked).toBeGreaterThan(0);
      expect(withCreated).toMatchObject({ differed: 0, reproduced: 300 - withCreated.masked, masked_paths: { "/input/device/id": withCreated.masked } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
