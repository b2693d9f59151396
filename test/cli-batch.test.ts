/**
 * `stepup batch`: NDJSON input documents in, one line per input line out, on the decision pool.
 * A bad line gets an error record (1-based line number, code, field) and every other line is
 * decided; `--fail-fast` keeps the run-stops-at-the-first-bad-line behaviour. Progress goes to
 * stderr only on a terminal and only for a long run.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { startProgress } from "../src/cli/progress.js";
import type { Decision } from "../src/contracts/decision.js";
import { runCli, scenarios, testStepup } from "./helpers.js";

const withoutId = ({ decision_id: _, ...rest }: Decision) => rest;

describe("stepup batch", () => {
  it("prints one decision per input line, in order, as decide would", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const result = await runCli(["batch", "-", "--workers", "2"], `${inputs.map((i) => JSON.stringify(i)).join("\n")}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const decisions = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Decision);
    expect(decisions.map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decideInput(i))));
  });

  it("answers every other line when lines in the middle are bad, with an error record for each", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const lines = inputs.map((i) => JSON.stringify(i));
    lines.splice(10, 0, JSON.stringify({ now: 1 }));
    lines.splice(20, 0, "{not json");
    const result = await runCli(["batch", "-", "--workers", "2"], `${lines.join("\n")}\n`);
    expect(result.code).toBe(2);
    const out = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Decision & { line?: number; error?: { code: string; field: string | null } });
    expect(out).toHaveLength(lines.length);
    expect(out[10]).toMatchObject({ line: 11, error: { code: "ERR_INPUT_INVALID", field: "subject" } });
    expect(out[20]).toMatchObject({ line: 21, error: { code: "ERR_INPUT_NOT_JSON", field: null } });
    const decided = out.filter((_, i) => i !== 10 && i !== 20) as Decision[];
    expect(decided.map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decideInput(i))));
    expect(result.stderr).toMatch(/2 lines not decided \(error records on stdout\); the first: line 11, ERR_INPUT_INVALID at subject/);
  });

  it("with --fail-fast, stops at the first bad line and prints no decision", async () => {
    const good = JSON.stringify((await scenarios())[0]!.input);
    const result = await runCli(["batch", "-", "--fail-fast"], `${good}\n${JSON.stringify({ now: 1 })}\n${good}\n`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/ERR_INPUT_INVALID/);
    expect(result.stderr).toMatch(/\[1\]\.subject/);
  });

  it("refuses a worker count that is not a whole number", async () => {
    const result = await runCli(["batch", "-", "--workers", "0"], "");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--workers takes a whole number/);
  });
});

describe("progress", () => {
  const terminal = (isTTY: boolean) => {
    const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
    let text = "";
    stream.on("data", (d: Buffer) => (text += d.toString()));
    return { stream, text: () => text };
  };

  it("draws on a terminal once the run has taken long enough", () => {
    const tty = terminal(true);
    const progress = startProgress({ label: "deciding", total: 100, stream: tty.stream, after: 0 });
    progress.update(40);
    progress.stop();
    expect(tty.text()).toMatch(/deciding .*40%/);
  });

  it("stays silent off a terminal, and on a terminal for a short run", () => {
    const pipe = terminal(false);
    const p1 = startProgress({ label: "deciding", total: 100, stream: pipe.stream, after: 0 });
    p1.update(50);
    p1.stop();
    const tty = terminal(true);
    const p2 = startProgress({ label: "deciding", total: 100, stream: tty.stream, after: 60_000 });
    p2.update(50);
    p2.stop();
    expect(pipe.text()).toBe("");
    expect(tty.text()).toBe("");
  });
});
