/**
 * The one registry of stepup's errors. Every error has a stable `code`; `switch (err.code)`
 * narrows to the subclass. docs/errors.md lists the same codes, and a test keeps the two in step.
 */

/** A problem found in a document, named by its path (`session.auth_time`). */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export abstract class StepupError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input is not JSON at all. */
export class InputNotJsonError extends StepupError {
  readonly code = "ERR_INPUT_NOT_JSON" as const;
}

/** The input is JSON but breaks the input contract; `issues` names each field. */
export class InputInvalidError extends StepupError {
  readonly code = "ERR_INPUT_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid input: ${describeIssues(issues)}`);
  }
}

/** No bundle at the path given. */
export class BundleNotFoundError extends StepupError {
  readonly code = "ERR_BUNDLE_NOT_FOUND" as const;
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`no bundle at ${path}`, options);
  }
}

/** The bundle is there but cannot be used: a file is missing, unreadable or malformed. */
export class BundleInvalidError extends StepupError {
  readonly code = "ERR_BUNDLE_INVALID" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`bundle ${path} is not usable: ${reason}`, options);
  }
}

/** The policy's WebAssembly module failed while deciding. */
export class EngineEvaluationError extends StepupError {
  readonly code = "ERR_ENGINE_EVALUATION" as const;
}

/** The policy gave no decision for the input (an undefined result). */
export class EngineUndefinedError extends StepupError {
  readonly code = "ERR_ENGINE_UNDEFINED" as const;
}

/** The policy's result breaks the decision contract. */
export class DecisionInvalidError extends StepupError {
  readonly code = "ERR_DECISION_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid decision from the policy: ${describeIssues(issues)}`);
  }
}

/** A decision pool was used after it was closed (or after all its threads failed). */
export class PoolClosedError extends StepupError {
  readonly code = "ERR_POOL_CLOSED" as const;
}

/** An external tool (the OPA CLI) failed. */
export class ToolFailedError extends StepupError {
  readonly code = "ERR_TOOL_FAILED" as const;
  constructor(readonly tool: string, readonly detail: string) {
    super(`${tool} failed: ${detail}`);
  }
}

export type StepupErrors =
  | InputNotJsonError
  | InputInvalidError
  | BundleNotFoundError
  | BundleInvalidError
  | EngineEvaluationError
  | EngineUndefinedError
  | DecisionInvalidError
  | PoolClosedError
  | ToolFailedError;

export type ErrorCode = StepupErrors["code"];

/** Every code, for documentation and for the test that keeps docs/errors.md in step. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "ERR_INPUT_NOT_JSON",
  "ERR_INPUT_INVALID",
  "ERR_BUNDLE_NOT_FOUND",
  "ERR_BUNDLE_INVALID",
  "ERR_ENGINE_EVALUATION",
  "ERR_ENGINE_UNDEFINED",
  "ERR_DECISION_INVALID",
  "ERR_POOL_CLOSED",
  "ERR_TOOL_FAILED",
];

export function isStepupError(err: unknown): err is StepupErrors {
  return err instanceof StepupError;
}

function describeIssues(issues: readonly Issue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path || "(root)"}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}
