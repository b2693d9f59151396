/**
 * The policy evaluated by OPA itself on the Rego (`opa eval`, no wasm): the reference runtime of
 * the parity suites. One `opa eval` run decides a whole batch.
 */
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import type { Verdict } from "../../src/contracts/decision.js";

/**
 * Evaluates the decision for many inputs in one `opa eval` run over `regoDir`, tests left out.
 * The answer is aligned with `inputs`: `undefined` where the policy gave no decision.
 */
export async function opaEvalDecisions(inputs: readonly unknown[], regoDir = "rego"): Promise<unknown[]> {
  const out = await runTool(
    opaBinary(),
    [
      "eval",
      "--format",
      "json",
      "--data",
      regoDir,
      "--ignore",
      "*_test.rego",
      "--stdin-input",
      // Keyed by position, so that an input without a decision leaves a gap instead of shifting the rest.
      "{i: d | some i, x in input; d := data.stepup.decision with input as x}",
    ],
    { stdin: JSON.stringify(inputs) },
  );
  const byIndex = JSON.parse(out).result[0].expressions[0].value as Record<string, unknown>;
  return inputs.map((_, i) => byIndex[String(i)]);
}

/** Sets come out of OPA sorted and out of wasm in hash order; the contract treats them as sets. */
export function normalised(verdict: Verdict): Verdict {
  return { ...verdict, reasons: [...verdict.reasons].sort(), obligations: [...verdict.obligations].sort() };
}
