/**
 * Validating what a runtime returned against the verdict contract. A verdict that meets it takes
 * the compiled check and is used as it is (it is a fresh document parsed from the engine's
 * output); zod names the problems when it does not.
 */
import { compileCheck } from "../contracts/compiled.js";
import { VerdictSchema, type Verdict } from "../contracts/decision.js";
import { toIssues } from "../contracts/issues.js";
import { DecisionInvalidError } from "../errors.js";

const meetsContract = compileCheck(VerdictSchema, "output");

/**
 * Compiles the verdict check ahead of the first decision, when a bundle is loaded: the first
 * request should not wait for ajv.
 */
export function prepareVerdictCheck(): void {
  meetsContract.prepare();
}

/** Validates what a runtime returned against the verdict contract. */
export function parseVerdict(raw: unknown): Verdict {
  if (meetsContract(raw)) return raw as Verdict;
  const result = VerdictSchema.safeParse(raw);
  if (!result.success) throw new DecisionInvalidError(toIssues(result.error));
  return result.data;
}
