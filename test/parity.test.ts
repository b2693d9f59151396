/**
 * The same decision from OPA evaluating the Rego (`opa eval`, no wasm) and from the SDK on the
 * compiled wasm, for every scenario of the catalogue.
 */
import { describe, expect, it } from "vitest";
import { opaBinary, runTool } from "../src/bundle/opa-cli.js";
import { parseVerdict } from "../src/decision/verdict.js";
import type { Verdict } from "../src/contracts/decision.js";
import { scenarios, testStepup } from "./helpers.js";

/** Evaluates the decision for many inputs in one `opa eval` run over rego/. */
export async function opaEvalDecisions(inputs: unknown[]): Promise<unknown[]> {
  const out = await runTool(
    opaBinary(),
    [
      "eval",
      "--format",
      "json",
      "--data",
      "rego",
      "--ignore",
      "*_test.rego",
      "--stdin-input",
      "[d | some x in input; d := data.stepup.decision with input as x]",
    ],
    { stdin: JSON.stringify(inputs) },
  );
  return JSON.parse(out).result[0].expressions[0].value as unknown[];
}

/** Sets come out of OPA sorted and out of wasm in hash order; the contract treats them as sets. */
export function normalised(verdict: Verdict): Verdict {
  return { ...verdict, reasons: [...verdict.reasons].sort(), obligations: [...verdict.obligations].sort() };
}

describe("parity: opa eval on the Rego and the SDK on the wasm", () => {
  it("agree on every scenario", async () => {
    const stepup = await testStepup();
    const catalogue = await scenarios();
    const fromOpa = await opaEvalDecisions(catalogue.map((s) => s.input));
    expect(fromOpa).toHaveLength(catalogue.length);
    catalogue.forEach((scenario, i) => {
      const rego = normalised(parseVerdict(fromOpa[i]));
      const wasm = normalised(stepup.evaluate(scenario.input));
      expect(wasm, scenario.name).toEqual(rego);
    });
  });
});
