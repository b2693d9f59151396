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

/**
 * Verdicts that passed the check, kept alive on purpose: the first 64, then one in every 4,099
 * in place of the oldest. The check's optimized code depends on the hidden classes (maps) of the
 * verdicts it has seen, and V8 holds the maps of objects parsed from JSON weakly: a full garbage
 * collection while no verdict of a shape is alive drops its maps, and the optimized check with
 * them, which then runs unoptimized until it is compiled again (30–80 ms of a background thread,
 * whose allocator keeps what the compiler used: the RSS steps the memory benchmark saw after each
 * of its collections). Exemplars of the shapes seen keep them alive. Keeping every recent verdict
 * instead would make each survive a young-generation collection, and V8 grows its young
 * generation when enough does (+16 MiB within the first million decisions, measured); a sample
 * survives too rarely for that, and its odd stride does not fall in step with periodic traffic.
 */
const exemplars: unknown[] = [];
const EXEMPLARS = 64;
const STRIDE = 4099;
let checked = 0;
let oldest = 0;

function keepExemplar(verdict: unknown): void {
  if (exemplars.length < EXEMPLARS) exemplars.push(verdict);
  else if (++checked % STRIDE === 0) {
    exemplars[oldest] = verdict;
    oldest = (oldest + 1) % EXEMPLARS;
  }
}

/** Validates what a runtime returned against the verdict contract. */
export function parseVerdict(raw: unknown): Verdict {
  if (meetsContract(raw)) {
    keepExemplar(raw);
    return raw as Verdict;
  }
  const result = VerdictSchema.safeParse(raw);
  if (!result.success) throw new DecisionInvalidError(toIssues(result.error));
  return result.data;
}
