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

/** An external tool (the OPA CLI) failed. */
export class ToolFailedError extends StepupError {
  readonly code = "ERR_TOOL_FAILED" as const;
  constructor(readonly tool: string, readonly detail: string) {
    super(`${tool} failed: ${detail}`);
  }
}

/** The decision-log configuration is invalid (a mask or drop rule, a sink option); `issues` names each. */
export class AuditConfigInvalidError extends StepupError {
  readonly code = "ERR_AUDIT_CONFIG_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid decision-log configuration: ${describeIssues(issues)}`);
  }
}

/** A decision-log line is not JSON or breaks the event format; `source` and `line` say where. */
export class LogInvalidError extends StepupError {
  readonly code = "ERR_LOG_INVALID" as const;
  constructor(readonly source: string, readonly line: number, readonly issues: readonly Issue[]) {
    super(`${source}:${line}: not a decision-log event: ${describeIssues(issues)}`);
  }
}

/** The bundle store holds no bundle of the revision asked for. */
export class RevisionNotFoundError extends StepupError {
  readonly code = "ERR_REVISION_NOT_FOUND" as const;
  constructor(readonly revision: string, readonly store: string) {
    super(`no bundle of revision ${JSON.stringify(revision)} in the bundle store ${store}`);
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
  | ToolFailedError
  | AuditConfigInvalidError
  | LogInvalidError
  | RevisionNotFoundError;

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
  "ERR_TOOL_FAILED",
  "ERR_AUDIT_CONFIG_INVALID",
  "ERR_LOG_INVALID",
  "ERR_REVISION_NOT_FOUND",
];

export function isStepupError(err: unknown): err is StepupErrors {
  return err instanceof StepupError;
}

function describeIssues(issues: readonly Issue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path || "(root)"}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}
