import { VerdictSchema, type Verdict } from "../contracts/decision.js";
import { toIssues } from "../contracts/issues.js";
import { DecisionInvalidError } from "../errors.js";

/** Validates what a runtime returned against the verdict contract. */
export function parseVerdict(raw: unknown): Verdict {
  const result = VerdictSchema.safeParse(raw);
  if (!result.success) throw new DecisionInvalidError(toIssues(result.error));
  return result.data;
}
