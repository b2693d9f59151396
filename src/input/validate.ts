/**
 * Validation of the input document. Everything the caller sends is untrusted until it passes here;
 * a failure names the field and never reaches the policy.
 */
import { InputSchema, type Input } from "../contracts/input.js";
import { toIssues } from "../contracts/issues.js";
import { InputInvalidError, InputNotJsonError } from "../errors.js";

/** Validates an input document and fills every unknown with null. */
export function parseInput(raw: unknown): Input {
  const result = InputSchema.safeParse(raw);
  if (!result.success) throw new InputInvalidError(toIssues(result.error));
  return result.data;
}

/** Parses JSON text, then validates it as an input document. */
export function parseInputText(text: string): Input {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputNotJsonError(`input is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseInput(raw);
}
