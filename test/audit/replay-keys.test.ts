/**
 * Replay keys its counts by what the log names — apps, reasons, revisions — and walks the paths
 * its erased and masked lists give. A logged decision for app `__proto__` once polluted
 * Object.prototype and aborted the what-if run with a misleading error on an innocent line; app
 * `constructor` crashed it. Here such apps, revisions and paths go through `stepup replay` (the
 * CLI, in a process of its own) and through `whatIfLogs` and `verifyLogs` in this process, in
 * the main thread and on threads, and come out as plain keys.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { RevisionIndex, type VerifyReport, type WhatIfReport } from "../../src/audit/replay.js";
import { verifyLogs, whatIfLogs } from "../../src/audit/replay-pool.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { loadBundle, type Bundle } from "../../src/bundle/load.js";
import { parseInput } from "../../src/input/validate.js";
import { Stepup } from "../../src/stepup.js";
import { runCli } from "../helpers.js";

const APPS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype", "wiki"];
const PER_APP = 3;

let dir: string;
let log: string;
let hostile: string;
let bundle: Bundle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-replay-keys-"));
  log = join(dir, "decisions.ndjson");
  const sink = new FileSink({ path: log });
  const logger = new DecisionLogger({ sinks: [sink] });
  const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
  for (const app of APPS) {
    for (let i = 0; i < PER_APP; i++) {
      stepup.decideInput(
        parseInput({ now: 1_795_852_800 + i, subject: { id: `user-${i}@example.com`, kind: "human" }, session: { acr: "phr", amr: ["hwk"], auth_time: 1_795_852_000 }, target: { app, action: "read" } }),
      );
    }
  }
  await logger.close();
  bundle = await loadBundle(inject("bundlePath"));
  // The same events naming revisions and masked paths that are prototype names.
  const events = (await readFile(log, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, any>);
  hostile = join(dir, "hostile.ndjson");
  const lines = events.map((event, i) => {
    const copy = structuredClone(event);
    if (i % 3 === 0) copy.bundles = { stepup: { revision: i % 2 === 0 ? "__proto__" : "constructor" } };
    if (i % 3 === 1) copy.erased = ["/result/__proto__/polluted", "/result/constructor/prototype/polluted"];
    if (i % 3 === 2) copy.masked = ["/result/__proto__/polluted"];
    return JSON.stringify(copy);
  });
  await writeFile(hostile, `${lines.join("\n")}\n`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function expectClean() {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).decisions).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(
    ["__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "__proto__", "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf"].sort(),
  );
}

function expectApps(report: WhatIfReport) {
  expect(report.events).toBe(APPS.length * PER_APP);
  expect(Object.keys(report.by_app).sort()).toEqual([...APPS].sort());
  for (const app of APPS) expect(report.by_app[app]?.decisions, app).toBe(PER_APP);
}

describe("what-if and verify keyed by what the log names", () => {
  it("counts apps named __proto__, constructor and the like as apps, from the CLI", async () => {
    const result = await runCli(["replay", log, "--against", inject("bundlePath"), "--json", "--threads", "1"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expectApps(JSON.parse(result.stdout) as WhatIfReport);
    const text = await runCli(["replay", log, "--against", inject("bundlePath")]);
    expect(text.code).toBe(0);
  });

  for (const threads of [1, 2]) {
    it(`counts them in this process without touching Object.prototype (${threads} thread${threads > 1 ? "s" : ""})`, async () => {
      expectApps(await whatIfLogs([log], bundle, { threads }));
      expectClean();
    });
  }

  it("counts revisions named __proto__ and constructor, and walks only the result's own paths", async () => {
    const report: VerifyReport = await verifyLogs([hostile], new RevisionIndex(new Map([[bundle.revision, bundle]])), { threads: 1 });
    expectClean();
    expect(report.events).toBe(APPS.length * PER_APP);
    expect(Object.entries(report.missing_revisions).sort()).toEqual([["__proto__", 4], ["constructor", 3]]);
    expect(Object.getPrototypeOf(report.missing_revisions)).toBeNull();
    expect(report.reproduced).toBe(report.events - 7);
    const whatIf = await whatIfLogs([hostile], bundle, { threads: 1 });
    expectClean();
    expectApps(whatIf);
  });
});
