/**
 * The packed decision (`stepup/packed` in rego/stepup/decision.rego): the verdict's values in an
 * array, in a fixed order, because OPA's wasm hashes every object key when it builds and writes
 * an object and the SDK parses every key back. Unpacked here into the verdict's shape, then
 * validated against the verdict contract like any other runtime's answer. The Rego test
 * `test_packed_is_the_decision` and the parity test hold the order in step with `decision`.
 */

/** Field order of the packed array; a Verdict with its risk fields nested back. */
const FIELDS = 12;

/** The verdict from a packed array; anything else is returned as it is, for validation to reject. */
export function unpack(value: unknown): unknown {
  if (!Array.isArray(value) || value.length !== FIELDS) return value;
  const [outcome, tier, score, level, groups, contributions, requirement, satisfied, reasons, obligations, exceptions, policy_version] = value as unknown[];
  return {
    outcome,
    tier,
    risk: { score, level, groups, contributions },
    requirement,
    satisfied,
    reasons,
    obligations,
    exceptions,
    policy_version,
  };
}
