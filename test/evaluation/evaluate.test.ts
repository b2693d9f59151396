/**
 * The labelled stream and its evaluation: the generator is deterministic and covers every attack
 * class; the evaluation counts what a direct replay gives; a candidate tuning is evaluated side by
 * side; and the commands work from the CLI (JSON report, bad lines named).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttackClass, type LoginEvent } from "../../src/contracts/evaluation.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import { generateStream } from "../../src/evaluation/generate.js";
import { markdownOf, reportOf, type EvaluationReport } from "../../src/evaluation/report.js";
import { formatStream, parseStream } from "../../src/evaluation/stream.js";
import { withSettings } from "../../src/evaluation/tuning.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, testStepup } from "../helpers.js";

const SMALL = { seed: 7, employees: 120, days: 21, attacks: 240 };
let stream: LoginEvent[];
let dir: string;

beforeAll(async () => {
  stream = generateStream(SMALL);
  dir = await mkdtemp(join(tmpdir(), "stepup-evaluate-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the generated stream", () => {
  it("is the same for the same seed, and another for another seed", () => {
    expect(formatStream(generateStream(SMALL))).toBe(formatStream(stream));
    expect(formatStream(generateStream({ ...SMALL, seed: 8 }))).not.toBe(formatStream(stream));
  });

  it("is in time order, labelled, and holds every attack class", () => {
    for (let i = 1; i < stream.length; i++) expect(stream[i]!.time).toBeGreaterThanOrEqual(stream[i - 1]!.time);
    const labels = new Set(stream.map((e) => e.label));
    for (const attack of AttackClass.options) expect(labels, attack).toContain(attack);
    expect(stream.filter((e) => e.label === "legitimate").length).toBeGreaterThan(stream.length * 0.8);
  });

  it("gives each attack class the session it would hold", () => {
    const proxies = stream.filter((e) => e.label === "phishing_proxy");
    for (const e of proxies) {
      expect(e.session?.amr).toEqual(["pwd", "otp"]);
      expect(e.time - e.session!.auth_time!).toBeLessThanOrEqual(600);
      expect(e.device).toBeNull();
    }
    const targeted = stream.filter((e) => e.label === "targeted");
    for (const e of targeted) expect(e.network.anonymizer).toBe("none");
  });

  it("reads back as it was written, and names a bad line", () => {
    expect(parseStream(formatStream(stream))).toEqual(stream);
    const text = `${JSON.stringify(stream[0])}\n{"time": 1}\n`;
    expect(() => parseStream(text)).toThrow(/line 2/);
  });
});

describe("the evaluation", () => {
  let stepup: Stepup;
  let report: EvaluationReport;
  beforeAll(async () => {
    stepup = await testStepup();
    report = reportOf(await evaluate(stream, [{ name: "bundle", stepup }]));
  });

  it("counts every event once: legitimate ones of established users, and each attack", () => {
    const [c] = report.candidates;
    const attacks = Object.values(c!.attacks).reduce((sum, a) => sum + a.overall.total, 0);
    expect(attacks).toBe(stream.filter((e) => e.label !== "legitimate").length);
    const outcomes = c!.legitimateOutcomes;
    expect(outcomes.allow + outcomes.step_up + outcomes.deny).toBe(c!.legitimate.overall.total);
    expect(c!.legitimate.overall.flagged).toBe(outcomes.step_up + outcomes.deny);
    expect(c!.legitimate.overall.total).toBeLessThan(stream.filter((e) => e.label === "legitimate").length);
  });

  it("evaluates a tuning side by side, and a weaker one misses more", async () => {
    const weaker = await Stepup.create(withSettings(stepup.bundle, ["weights.device.unattested=0", "requirements.another_actor.signals=[]"]), { onError: () => {} });
    const both = reportOf(await evaluate(stream, [{ name: "bundle", stepup }, { name: "weaker", stepup: weaker }]));
    const caught = (i: number) => Object.values(both.candidates[i]!.attacks).reduce((sum, a) => sum + a.overall.flagged, 0);
    expect(caught(0)).toBe(Object.values(report.candidates[0]!.attacks).reduce((sum, a) => sum + a.overall.flagged, 0));
    expect(caught(1)).toBeLessThan(caught(0));
    expect(markdownOf(both)).toContain("| weaker |");
  });

  it("refuses a tuning the config contract refuses, naming it", () => {
    expect(() => withSettings(stepup.bundle, ["weights.device.unattested=\"heavy\""])).toThrow(/weights/);
    expect(() => withSettings(stepup.bundle, ["weights.no.such.signal=3"])).toThrow(/no such setting/);
  });
});

describe("stepup evaluate and generate-stream", () => {
  it("writes the stream and reports on it as JSON", async () => {
    const path = join(dir, "stream.ndjson");
    const generated = await runCli(["generate-stream", "--seed", "7", "--employees", "40", "--days", "14", "--attacks", "60", "--out", path]);
    expect(generated.code).toBe(0);
    const result = await runCli(["evaluate", path, "--json", "--set", "weights.network.external=0"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as EvaluationReport;
    expect(report.candidates.map((c) => c.name)).toEqual(["bundle", "tuned"]);
    expect(Object.keys(report.candidates[0]!.attacks).length).toBeGreaterThan(3);
  });

  it("names the line of a bad event and exits 2", async () => {
    const path = join(dir, "bad.ndjson");
    await writeFile(path, `${JSON.stringify(stream[0])}\n${JSON.stringify({ ...stream[1], label: "burglar" })}\n`);
    const result = await runCli(["evaluate", path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("line 2");
  });
});
