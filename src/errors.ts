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

/**
 * The tuning data names a code the policy does not know — a weight for a signal, or a reason an
 * exception relaxes — so it would weigh or relax nothing (a typo, or a code the policy renamed).
 * `field` is where (`data.stepup.config.weights`), `signal` the unknown code.
 */
export class TuningCodeUnknownError extends StepupError {
  readonly code = "ERR_TUNING_CODE_UNKNOWN" as const;
  constructor(readonly path: string, readonly field: string, readonly signal: string) {
    super(`bundle ${path}: ${field} names ${signal}, which is not one of the policy's codes (the manifest's metadata.stepup.codes)`);
  }
}

/**
 * The archive holds an entry that could reach outside the bundle or is not a plain file: a `..`
 * segment, an absolute or drive path, a backslash, a symbolic or hard link, a device.
 */
export class BundleUnsafeError extends StepupError {
  readonly code = "ERR_BUNDLE_UNSAFE" as const;
  constructor(readonly path: string, readonly reason: string) {
    super(`bundle ${path} is refused: ${reason}`);
  }
}

/** The bundle is larger than the limits allow: compressed, once expanded, or in number of files. */
export class BundleTooLargeError extends StepupError {
  readonly code = "ERR_BUNDLE_TOO_LARGE" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`bundle ${path} is refused: ${reason}`, options);
  }
}

/**
 * The bundle's signature does not hold: no `.signatures.json`, a JWT that does not verify with
 * the configured key, a scope mismatch, or files changed, added or removed since signing.
 */
export class BundleSignatureError extends StepupError {
  readonly code = "ERR_BUNDLE_SIGNATURE" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`bundle ${path} failed signature verification: ${reason}`, options);
  }
}

/** A signing or verification key cannot be read, or does not suit its algorithm. */
export class BundleKeyInvalidError extends StepupError {
  readonly code = "ERR_BUNDLE_KEY_INVALID" as const;
  constructor(readonly keyId: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`key ${keyId} is not usable: ${reason}`, options);
  }
}

/** The bundle server could not be reached or did not answer with a bundle (nor 304). */
export class BundleDownloadError extends StepupError {
  readonly code = "ERR_BUNDLE_DOWNLOAD" as const;
  constructor(
    /** The bundle's URL, without credentials or query string. */
    readonly url: string,
    readonly reason: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`bundle download from ${url} failed: ${reason}`, options);
  }
}

/** At start, neither the bundle server nor a last-known-good bundle on disk gave a usable bundle. */
export class BundleUnavailableError extends StepupError {
  readonly code = "ERR_BUNDLE_UNAVAILABLE" as const;
  constructor(readonly url: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`no bundle to start with from ${url}: ${reason}`, options);
  }
}

/** The last-known-good bundle could not be written to disk (the folder is not writable, the disk is full). */
export class BundlePersistError extends StepupError {
  readonly code = "ERR_BUNDLE_PERSIST" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`the last-known-good bundle could not be saved in ${path}: ${reason}`, options);
  }
}

/** Options given to stepup (a bundle client's or a remote engine's configuration) break their schema. */
export class ConfigInvalidError extends StepupError {
  readonly code = "ERR_CONFIG_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid configuration: ${describeIssues(issues)}`);
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

/** A remote engine (an OPA sidecar) gave no answer within its timeout, retries included. */
export class EngineTimeoutError extends StepupError {
  readonly code = "ERR_ENGINE_TIMEOUT" as const;
  constructor(readonly url: string, readonly timeoutMs: number, options?: { cause?: unknown }) {
    super(`no answer from ${url} within ${timeoutMs} ms`, options);
  }
}

/** A remote engine could not be reached, or answered that it cannot serve (5xx, connection refused). */
export class EngineUnavailableError extends StepupError {
  readonly code = "ERR_ENGINE_UNAVAILABLE" as const;
  /** The HTTP status, when the engine answered with one. */
  readonly status: number | undefined;
  constructor(readonly url: string, readonly reason: string, options: { cause?: unknown; status?: number } = {}) {
    super(`${url} is unavailable: ${reason}`, { cause: options.cause });
    this.status = options.status;
  }
}

/** A remote engine answered, but not with something stepup can read (not JSON, not OPA's shape, a 4xx). */
export class EngineBadResponseError extends StepupError {
  readonly code = "ERR_ENGINE_BAD_RESPONSE" as const;
  constructor(readonly url: string, readonly status: number, readonly reason: string) {
    super(`unusable answer from ${url} (HTTP ${status}): ${reason}`);
  }
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

/**
 * An external tool is not the version stepup pins (the OPA CLI building a bundle); another is used
 * only when asked for (`--allow-opa-version`).
 */
export class ToolVersionError extends StepupError {
  readonly code = "ERR_TOOL_VERSION" as const;
  constructor(readonly tool: string, readonly version: string, readonly expected: string) {
    super(`${tool} is version ${version}, not the pinned ${expected}: install the pinned one (make tools) or allow another (--allow-opa-version)`);
  }
}

/** A bearer or ID token was presented and could not be verified; it is never guessed at. */
export class TokenInvalidError extends StepupError {
  readonly code = "ERR_TOKEN_INVALID" as const;
  /** Why, as a short stable word: `malformed`, `expired`, `signature`, `claims`, `type`, … */
  constructor(readonly reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A key set (JWKS file or URL) could not be read, so no token or statement can be verified. */
export class KeysUnavailableError extends StepupError {
  readonly code = "ERR_KEYS_UNAVAILABLE" as const;
  constructor(readonly source: string, options?: { cause?: unknown }) {
    super(`keys from ${source} are not available`, options);
  }
}

/** The signal configuration is broken (a CIDR, a proxy address, a route); `issues` names each field. */
export class SignalConfigInvalidError extends StepupError {
  readonly code = "ERR_SIGNAL_CONFIG_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid signal configuration: ${describeIssues(issues)}`);
  }
}

/** An address or ASN list file has a line that is not an address, a CIDR or an ASN. */
export class IpListInvalidError extends StepupError {
  readonly code = "ERR_IP_LIST_INVALID" as const;
  constructor(readonly file: string, readonly line: number, readonly reason: string, options?: { cause?: unknown }) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${reason}`, options);
  }
}

/** A geography database (mmdb) cannot be opened or is not one. */
export class GeoDatabaseInvalidError extends StepupError {
  readonly code = "ERR_GEO_DATABASE_INVALID" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`geography database ${path}: ${reason}`, options);
  }
}

/** The behaviour store (Redis or memory) failed or timed out. */
export class BehaviorStoreError extends StepupError {
  readonly code = "ERR_BEHAVIOR_STORE" as const;
}

/**
 * A write to the behaviour store — a login, a prompt sent, a failed attempt — did not reach it
 * (Redis down or too slow). Nothing is lost: `record` holds the write as data, to keep and retry
 * (`guard.retryRecord(record)`). HTTP frameworks that answer an error by its `statusCode` and
 * `headers` (Fastify; Express with `stepupExpressErrors()`) answer 503 with `Retry-After`.
 */
export class StateWriteError extends StepupError {
  readonly code = "ERR_STATE_WRITE_FAILED" as const;
  readonly retryable = true;
  readonly statusCode = 503;
  readonly headers: Readonly<Record<string, string>> = { "retry-after": "1", "cache-control": "no-store" };
  constructor(
    /** The write, as data (`{ kind: "login" | "prompt" | "failure", subject, … }`). */
    readonly record: Readonly<{ kind: string; subject: string }> & Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(`the ${record.kind} could not be recorded: the behaviour store is unreachable; retry the record`, options);
  }
}

/** No route mapping gives the request's target app and action. */
export class TargetUnmappedError extends StepupError {
  readonly code = "ERR_TARGET_UNMAPPED" as const;
  constructor(readonly method: string, readonly path: string) {
    super(`no target mapping for ${method} ${path}`);
  }
}

/**
 * The request's path maps to different targets depending on how a router reads it (an encoded
 * slash, a dot segment, a doubled slash, a backslash, letter case): stepup cannot know which one
 * the handler behind it serves, so the HTTP integrations deny it (fail closed).
 */
export class TargetAmbiguousError extends StepupError {
  readonly code = "ERR_TARGET_AMBIGUOUS" as const;
  constructor(readonly method: string, readonly path: string, readonly targets: readonly string[]) {
    super(`${method} ${path} maps to different targets as routers may read it: ${targets.join(", ")}`);
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

/**
 * A decision-log sink is full (its queue or its spool at the cap) or failed, and the logger was
 * configured to fail closed rather than decide without a log (`overflow: "fail_closed"`).
 */
export class DecisionLogFullError extends StepupError {
  readonly code = "ERR_DECISION_LOG_FULL" as const;
  constructor(readonly sinks: readonly string[]) {
    super(`the decision log cannot take more events (${sinks.join(", ") || "no sink"} full): failing closed`);
  }
}

/** The bundle store holds no bundle of the revision asked for. */
export class RevisionNotFoundError extends StepupError {
  readonly code = "ERR_REVISION_NOT_FOUND" as const;
  constructor(readonly revision: string, readonly store: string) {
    super(`no bundle of revision ${JSON.stringify(revision)} in the bundle store ${store}`);
  }
}

/**
 * An Envoy CheckRequest lacks what a decision needs (the HTTP method or path, the request time)
 * or cannot be read (invalid UTF-8, a target that breaks the input contract); `issues` names each
 * field. The ext_authz server denies such a request (fail closed).
 */
export class CheckRequestInvalidError extends StepupError {
  readonly code = "ERR_CHECK_REQUEST_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid CheckRequest: ${describeIssues(issues)}`);
  }
}

/** The Envoy edge settings (the data document of opa-envoy-plugin and the Node ext_authz server) break their schema. */
export class EnvoySettingsInvalidError extends StepupError {
  readonly code = "ERR_ENVOY_SETTINGS_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid Envoy settings: ${describeIssues(issues)}`);
  }
}

/**
 * A promotion or rollback that has nothing to switch to: no candidate revision held (or
 * published, for a channel folder), no revision to roll back to.
 */
export class RolloutInvalidError extends StepupError {
  readonly code = "ERR_ROLLOUT_INVALID" as const;
  constructor(readonly action: string, readonly reason: string) {
    super(`cannot ${action}: ${reason}`);
  }
}

/** An identity-provider profile, or a deployment's patch to one, breaks the profile contract. */
export class IdpProfileInvalidError extends StepupError {
  readonly code = "ERR_IDP_PROFILE_INVALID" as const;
  constructor(readonly issues: readonly Issue[]) {
    super(`invalid identity-provider profile: ${describeIssues(issues)}`);
  }
}

/** An issuer's OpenID Connect discovery document could not be had, or does not name that issuer or a usable jwks_uri. */
export class IdpDiscoveryError extends StepupError {
  readonly code = "ERR_IDP_DISCOVERY" as const;
  constructor(readonly issuer: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`discovery of ${issuer} failed: ${reason}`, options);
  }
}

/** A step-up requirement names no acr value the identity-provider profile can ask its provider for. */
export class IdpRequirementUnsupportedError extends StepupError {
  readonly code = "ERR_IDP_REQUIREMENT_UNSUPPORTED" as const;
  constructor(readonly profile: string, readonly acrValues: readonly string[]) {
    super(`the ${profile} profile maps none of the acr values ${acrValues.join(" ")} to a value of its provider`);
  }
}

/**
 * The answer of the identity provider to an authorization request could not be accepted: an
 * error from the provider, a state, nonce or PKCE mismatch, an ID token that does not verify, no
 * pending request (a callback nobody started, or one replayed).
 */
export class IdpCallbackError extends StepupError {
  readonly code = "ERR_IDP_CALLBACK" as const;
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`the identity provider's answer was refused: ${reason}`, options);
  }
}

/**
 * The identity provider answered a step-up with less than it was asked for (an older level, an
 * authentication older than max_age), after one retry: reported, never retried again.
 */
export class StepUpNotMetError extends StepupError {
  readonly code = "ERR_STEP_UP_NOT_MET" as const;
  constructor(
    readonly profile: string,
    /** What was asked: the policy's acr values and max_age. */
    readonly required: { readonly acrValues: readonly string[]; readonly maxAge: number | null },
    /** What came back, as session signals (no token). */
    readonly received: { readonly acr: string | null; readonly authTime: number | null },
    readonly attempts: number,
  ) {
    super(
      `the identity provider (${profile}) answered the step-up with acr ${received.acr ?? "none"} and auth_time ${received.authTime ?? "none"} ` +
        `after ${attempts} attempts; asked for ${required.acrValues.join(" ") || "any acr"}${required.maxAge === null ? "" : ` within ${required.maxAge} s`}`,
    );
  }
}

/**
 * The command line is wrong: an option value out of range or of the wrong kind, options that
 * exclude each other, an unknown command or contract. The CLI exits 2.
 */
export class UsageError extends StepupError {
  readonly code = "ERR_USAGE" as const;
}

/**
 * A file, folder or stdin given to a command cannot be read: it does not exist, is a folder where
 * a file belongs (`EISDIR`) or the reverse, is not permitted, or is compressed and cut short or
 * corrupt (a truncated `.gz`). The CLI exits 2.
 */
export class FileUnreadableError extends StepupError {
  readonly code = "ERR_FILE_UNREADABLE" as const;
  constructor(readonly path: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${path} cannot be read: ${reason}`, options);
  }
}

/** A server (`stepup bundle serve`, the ext_authz server) cannot listen where it was told: the port is taken or not permitted, the address is not this machine's. */
export class ListenFailedError extends StepupError {
  readonly code = "ERR_LISTEN_FAILED" as const;
  constructor(readonly address: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`cannot listen on ${address}: ${reason}`, options);
  }
}

/** A failure stepup did not foresee — a bug to report; the CLI names it so and exits 1. */
export class UnexpectedError extends StepupError {
  readonly code = "ERR_UNEXPECTED" as const;
}

export type StepupErrors =
  | InputNotJsonError
  | InputInvalidError
  | BundleNotFoundError
  | BundleInvalidError
  | BundleUnsafeError
  | BundleTooLargeError
  | BundleSignatureError
  | BundleKeyInvalidError
  | BundleDownloadError
  | BundleUnavailableError
  | BundlePersistError
  | ConfigInvalidError
  | EngineEvaluationError
  | EngineUndefinedError
  | EngineTimeoutError
  | EngineUnavailableError
  | EngineBadResponseError
  | DecisionInvalidError
  | ToolFailedError
  | ToolVersionError
  | TokenInvalidError
  | KeysUnavailableError
  | SignalConfigInvalidError
  | IpListInvalidError
  | GeoDatabaseInvalidError
  | BehaviorStoreError
  | StateWriteError
  | TargetUnmappedError
  | TargetAmbiguousError
  | AuditConfigInvalidError
  | LogInvalidError
  | DecisionLogFullError
  | RevisionNotFoundError
  | CheckRequestInvalidError
  | TuningCodeUnknownError
  | EnvoySettingsInvalidError
  | RolloutInvalidError
  | IdpProfileInvalidError
  | IdpDiscoveryError
  | IdpRequirementUnsupportedError
  | IdpCallbackError
  | StepUpNotMetError
  | PoolClosedError
  | UsageError
  | FileUnreadableError
  | ListenFailedError
  | UnexpectedError;

export type ErrorCode = StepupErrors["code"];

/** Every code, for documentation and for the test that keeps docs/errors.md in step. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "ERR_INPUT_NOT_JSON",
  "ERR_INPUT_INVALID",
  "ERR_BUNDLE_NOT_FOUND",
  "ERR_BUNDLE_INVALID",
  "ERR_TUNING_CODE_UNKNOWN",
  "ERR_BUNDLE_UNSAFE",
  "ERR_BUNDLE_TOO_LARGE",
  "ERR_BUNDLE_SIGNATURE",
  "ERR_BUNDLE_KEY_INVALID",
  "ERR_BUNDLE_DOWNLOAD",
  "ERR_BUNDLE_UNAVAILABLE",
  "ERR_BUNDLE_PERSIST",
  "ERR_CONFIG_INVALID",
  "ERR_ENGINE_EVALUATION",
  "ERR_ENGINE_UNDEFINED",
  "ERR_ENGINE_TIMEOUT",
  "ERR_ENGINE_UNAVAILABLE",
  "ERR_ENGINE_BAD_RESPONSE",
  "ERR_DECISION_INVALID",
  "ERR_POOL_CLOSED",
  "ERR_TOOL_FAILED",
  "ERR_TOOL_VERSION",
  "ERR_TOKEN_INVALID",
  "ERR_KEYS_UNAVAILABLE",
  "ERR_SIGNAL_CONFIG_INVALID",
  "ERR_IP_LIST_INVALID",
  "ERR_GEO_DATABASE_INVALID",
  "ERR_BEHAVIOR_STORE",
  "ERR_STATE_WRITE_FAILED",
  "ERR_TARGET_UNMAPPED",
  "ERR_TARGET_AMBIGUOUS",
  "ERR_AUDIT_CONFIG_INVALID",
  "ERR_LOG_INVALID",
  "ERR_DECISION_LOG_FULL",
  "ERR_REVISION_NOT_FOUND",
  "ERR_CHECK_REQUEST_INVALID",
  "ERR_ENVOY_SETTINGS_INVALID",
  "ERR_ROLLOUT_INVALID",
  "ERR_IDP_PROFILE_INVALID",
  "ERR_IDP_DISCOVERY",
  "ERR_IDP_REQUIREMENT_UNSUPPORTED",
  "ERR_IDP_CALLBACK",
  "ERR_STEP_UP_NOT_MET",
  "ERR_USAGE",
  "ERR_FILE_UNREADABLE",
  "ERR_LISTEN_FAILED",
  "ERR_UNEXPECTED",
];

export function isStepupError(err: unknown): err is StepupErrors {
  return err instanceof StepupError;
}

function describeIssues(issues: readonly Issue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path || "(root)"}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}
