/**
 * The codes tuning data names — a weight per signal, the reasons an exception relaxes — must be
 * codes of the policy: a typo would otherwise weigh or relax nothing, silently. Checked when a
 * bundle is built (against the code catalogue read from the Rego) and when one is loaded
 * (against the catalogue in its manifest).
 */
import type { Config } from "../contracts/config.js";
import { TuningCodeUnknownError } from "../errors.js";

export function checkTuningCodes(config: Pick<Config, "weights" | "exceptions">, codes: Readonly<Record<string, unknown>>, source: string): void {
  const known = (code: string) => Object.hasOwn(codes, code);
  for (const code of Object.keys(config.weights)) {
    if (!known(code)) throw new TuningCodeUnknownError(source, "data.stepup.config.weights", code);
  }
  for (const [id, exception] of Object.entries(config.exceptions)) {
    for (const code of exception.relaxes) {
      if (!known(code)) throw new TuningCodeUnknownError(source, `data.stepup.config.exceptions.${id}.relaxes`, code);
    }
  }
}
