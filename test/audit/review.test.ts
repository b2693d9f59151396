/**
 * The exception review trail: every use of an exception is logged with its id and the obligation
 * to review (never dropped by a drop rule), and `stepup review --since …` lists the uses in a
 * window from the decision logs. The first suite builds verdicts to the contract
 * (test/support/events.ts) to cover every shape; the second runs the policy's own exceptions.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import type { ReviewRecord } from "../../src/audit/review.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { toTime } from "../../src/cli/audit.js";
import { parseInput } from "../../src/input/validate.js";
import { runCli, scenarios, testStepup } from "../helpers.js";
import { Stepup } from "../../src/stepup.js";
import { exceptionEvent, exceptionVerdict } from "../support/events.js";

const input = (app: string) =>
  parseInput({ now: 1795852800, subject: { id: "exec@example.com", kind: "human" }, target: { app, action: "admin" } });

describe("exception review", () => {
  let dir: string;
  let log: string;
  const logged: ReviewRecord[] = [];
  const HOUR = 3600_000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-review-"));
    log = join(dir, "decisions.ndjson");
    const logger = new DecisionLogger({
      sinks: [new FileSink({ path: log })],
      drop: { outcome: ["allow"] }, // would drop every one of these, but for their exceptions
      onReview: (r) => logged.push(r),
    });
    logger.log(exceptionEvent(input("payroll"), exceptionVerdict("brk-old")));
    logger.log(exceptionEvent(input("payroll"), exceptionVerdict("brk-001")));
    logger.log(exceptionEvent(input("console"), exceptionVerdict("travel-7")));
    logger.log(exceptionEvent(input("console"), exceptionVerdict("sup-3", [])));
    await logger.close();
    // Date the events: 5 days, 30 hours, 2 hours and 1 hour ago.
    const ages = [120 * HOUR, 30 * HOUR, 2 * HOUR, 1 * HOUR];
    const lines = (await readFile(log, "utf8")).trim().split("\n");
    const dated = lines.map((line, i) => ({ ...JSON.parse(line), timestamp: new Date(Date.now() - (ages[i] ?? 0)).toISOString() }));
    await writeFile(log, `${dated.map((e) => JSON.stringify(e)).join("\n")}\n`);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("logs every use with the exception's id and the obligation, and never drops it", async () => {
    expect(logged.map((r) => [r.exception.id, r.review_required])).toEqual([
      ["brk-old", true],
      ["brk-001", true],
      ["travel-7", true],
      ["sup-3", false],
    ]);
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(4);
  });

  it("lists the uses since a time, oldest first", async () => {
    const result = await runCli(["review", log, "--since", "2d", "--json"]);
    expect(result.code).toBe(0);
    const records = (JSON.parse(result.stdout) as { exception_uses: ReviewRecord[] }).exception_uses;
    expect(records.map((r) => r.exception.id)).toEqual(["brk-001", "travel-7", "sup-3"]);
    expect(records[0]).toMatchObject({
      exception: { kind: "break_glass", approver: "ciso@example.com", relaxed: ["session.not_phishing_resistant"] },
      review_required: true,
      outcome: "allow",
      app: "payroll",
      action: "admin",
      subject: "exec@example.com",
      revision: "test-revision",
    });
  });

  it("explains each use for a person and flags a use without the review obligation", async () => {
    const result = await runCli(["review", log, "--since", "3h"]);
    // After the review's summary, which counts the same uses.
    expect(result.stdout).toMatch(/; 2 exception uses of 2 exceptions\n/);
    expect(result.stdout).toMatch(/^2 exception uses since /m);
    expect(result.stdout).toMatch(/travel-7 \(break_glass, approved by ciso@example\.com, expires 2026-11-30T.*admin on console → allow/);
    expect(result.stdout).toMatch(/sup-3 .*no log_for_review obligation/);
    expect(result.stdout).not.toMatch(/brk-001/);
  });

  it("says so when nothing was used", async () => {
    const result = await runCli(["review", log, "--since", "30m"]);
    expect(result.stdout).toMatch(/^no exception used since /m);
  });

  it("refuses a window it cannot read, and a log that is not one", async () => {
    const bad = await runCli(["review", log, "--since", "last tuesday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected an ISO date or time/);
    const notLog = join(dir, "not-a-log.ndjson");
    await writeFile(notLog, `${JSON.stringify({ decision_id: "x" })}\n`);
    const invalid = await runCli(["review", notLog, "--since", "1d"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/ERR_LOG_INVALID: .*not-a-log\.ndjson:1/);
    expect(invalid.stderr).toMatch(/timestamp: /);
  });

  it("reads absolute and relative times", () => {
    const now = Date.parse("2026-01-10T12:00:00Z");
    expect(toTime("7d", now)).toBe(Date.parse("2026-01-03T12:00:00Z"));
    expect(toTime("2026-01-01", now)).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect(toTime("2026-01-01T08:00:00+02:00", now)).toBe(Date.parse("2026-01-01T06:00:00Z"));
  });
});

describe("exception review with the policy's own exceptions", () => {
  it("logs and lists every exception the policy applied across the scenario catalogue", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stepup-review-policy-"));
    try {
      const log = join(dir, "decisions.ndjson");
      const reviewed: ReviewRecord[] = [];
      const logger = new DecisionLogger({ sinks: [new FileSink({ path: log })], drop: { outcome: ["allow"] }, onReview: (r) => reviewed.push(r) });
      const { bundle } = await testStepup();
      const stepup = await Stepup.create(bundle, { onDecision: (e) => logger.log(e), onError: () => {} });
      const applied = (await scenarios())
        .map((s) => ({ name: s.name, decision: stepup.decideInput(s.input) }))
        .filter(({ decision }) => decision.exceptions.length > 0);
      await logger.close();

      // The catalogue's break-glass, travel and supplier situations, and only those.
      expect(applied.map((a) => a.decision.exceptions[0]?.id).sort()).toEqual(["bg-2026-001", "supplier-acme", "travel-2026-014"]);
      for (const { decision } of applied) expect(decision.obligations).toContain("log_for_review");
      expect(reviewed.map((r) => r.exception.id).sort()).toEqual(["bg-2026-001", "supplier-acme", "travel-2026-014"]);
      expect(reviewed.every((r) => r.review_required)).toBe(true);

      const result = await runCli(["review", log, "--since", "1h", "--json"]);
      expect(result.code).toBe(0);
      const listed = (JSON.parse(result.stdout) as { exception_uses: ReviewRecord[] }).exception_uses;
      expect(listed.map((r) => r.exception.id).sort()).toEqual(["bg-2026-001", "supplier-acme", "travel-2026-014"]);
      // The logger reads its own events' checked verdicts directly; the log's are checked: the same records.
      const byId = (a: ReviewRecord, b: ReviewRecord) => (a.exception.id < b.exception.id ? -1 : 1);
      expect([...listed].sort(byId)).toEqual([...reviewed].sort(byId));
      expect(listed.find((r) => r.exception.id === "bg-2026-001")).toMatchObject({
        exception: { kind: "break_glass", approver: "ciso@example.com" },
        outcome: "allow",
        subject: "breakglass-1@example.com",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
