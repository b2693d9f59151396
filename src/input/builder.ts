/**
 * The input document built from what the collectors found, in exactly the contract's shape, then
 * validated with `parseInput` like any other input: collectors are code too, and a value they
 * got wrong must be a typed error rather than something the policy silently misreads.
 */
import type { Input } from "../contracts/input.js";
import { parseInput } from "./validate.js";

/** Every part of the input; null where a collector knows nothing. */
export interface InputParts {
  readonly now: number;
  readonly subject: Input["subject"];
  readonly session: Input["session"];
  readonly credential: Input["credential"];
  readonly device: Input["device"];
  readonly network: Input["network"];
  readonly geo: Input["geo"];
  readonly behavior: Input["behavior"];
  readonly familiarity: Input["familiarity"];
  readonly target: Input["target"];
}

/** Assembles and validates the input; throws `InputInvalidError` naming the field when a part is off. */
export function buildInput(parts: InputParts): Input {
  return parseInput({
    version: 1,
    now: parts.now,
    subject: parts.subject,
    session: parts.session,
    credential: parts.credential,
    device: parts.device,
    network: parts.network,
    geo: parts.geo,
    behavior: parts.behavior,
    familiarity: parts.familiarity,
    target: parts.target,
  });
}
