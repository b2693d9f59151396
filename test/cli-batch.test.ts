/** `stepup batch`: NDJSON input documents in, one decision per line out, on the decision pool. */
import { describe, expect, it } from "vitest";
import type { Decision } from "../src/contracts/decision.js";
import { runCli, scenarios, testStepup } from "./helpers.js";

const withoutId = ({ decision_id: _, ...rest }: Decision) => rest;

describe("stepup batch", () => {
  it("prints one decision per input line, in order, as decide would", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const result = await runCli(["batch", "-", "--workers", "2"], `${inputs.map((i) => JSON.stringify(i)).join("\n")}\n`);
    expect(result.code, result.stderr).toBe(0);
    const decisions = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Decision);
    expect(decisions.map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decideInput(i))));
  });

  it("names the line of a bad input and exits 2", async () => {
    const good = JSON.stringify((await scenarios())[0]!.input);
    const result = await runCli(["batch", "-"], `${good}\n${JSON.stringify({ now: 1 })}\n`);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ERR_INPUT_INVALID/);
    expect(result.stderr).toMatch(/\[1\]\.subject/);
  });

  it("refuses a worker count that is not a whole number", async () => {
    const result = await runCli(["batch", "-", "--workers", "0"], "");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--workers takes a whole number/);
  });
});
