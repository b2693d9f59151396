/**
 * Validating what a runtime returned against the verdict contract. A verdict that meets it takes
 * the compiled check — code generated ahead of time from the contract's JSON Schema
 * (scripts/check-code.ts) — and is used as it is (it is a fresh document parsed from the engine's
 * output); zod names the problems when it does not.
 */
import { VerdictSchema, type Verdict } from "../contracts/decision.js";
import { validate as meetsContract } from "../contracts/generated/verdict-check.js";
import { toIssues } from "../contracts/issues.js";
import { DecisionInvalidError } from "../errors.js";

/** Validates what a runtime returned against the verdict contract. */
export function parseVerdict(raw: unknown): Verdict {
  if (meetsContract(raw) === true) return raw as Verdict;
  const result = VerdictSchema.safeParse(raw);
  if (!result.success) throw new DecisionInvalidError(toIssues(result.error));
  return result.data;
}
