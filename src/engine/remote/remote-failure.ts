/**
 * What went wrong with one call to an OPA sidecar, as a typed error, and whether trying again
 * might help. Evaluating a decision is a pure read, so any attempt may be repeated safely; what
 * decides is whether the cause is passing (a refused or reset connection, a 502/503/504) or not
 * (OPA's own evaluation error, an answer that is not OPA's).
 */
import type { AxiosError } from "axios";
import {
  EngineBadResponseError,
  EngineEvaluationError,
  EngineTimeoutError,
  EngineUnavailableError,
  type StepupErrors,
} from "../../errors.js";
import { axios } from "../../lazy.js";

function isAxiosError(err: unknown): err is AxiosError {
  return axios().isAxiosError(err);
}

export interface Failure {
  readonly error: StepupErrors;
  readonly retryable: boolean;
}

/** Network errors after which another attempt, on a fresh connection, may succeed. */
const PASSING_NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);

/** A request that never got an HTTP answer. */
export function networkFailure(err: unknown, url: string, timeoutMs: number, expired: boolean): Failure {
  if (expired || (isAxiosError(err) && (err.code === "ECONNABORTED" || err.code === "ETIMEDOUT" || err.code === "ERR_CANCELED"))) {
    return { error: new EngineTimeoutError(url, timeoutMs, { cause: err }), retryable: false };
  }
  if (isAxiosError(err) && err.code === "ERR_BAD_RESPONSE") {
    // axios refused the answer itself, e.g. a body over maxContentLength.
    return { error: new EngineBadResponseError(url, err.response?.status ?? 0, err.message), retryable: false };
  }
  const code = isAxiosError(err) ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const retryable = (code !== undefined && PASSING_NETWORK_ERRORS.has(code)) || /socket hang up/i.test(message);
  return {
    error: new EngineUnavailableError(url, code && !message.includes(code) ? `${code}: ${message}` : message, { cause: err }),
    retryable,
  };
}

/** An HTTP answer other than 200. OPA reports its own errors as JSON with `code` and `message`. */
export function statusFailure(status: number, body: string, url: string): Failure {
  const opa = opaError(body);
  if (status >= 500 && opa) {
    // OPA answered and the policy failed: deterministic, so retrying would fail the same way.
    return { error: new EngineEvaluationError(`the sidecar could not evaluate: ${opa.code}: ${opa.message}`), retryable: false };
  }
  if (status >= 500) {
    const retryable = status === 502 || status === 503 || status === 504;
    return { error: new EngineUnavailableError(url, `HTTP ${status}`, { status }), retryable };
  }
  const reason = opa ? `${opa.code}: ${opa.message}` : `unexpected HTTP status ${status}`;
  return { error: new EngineBadResponseError(url, status, reason), retryable: false };
}

function opaError(body: string): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === "string" && typeof parsed.message === "string") {
      return { code: parsed.code, message: parsed.message };
    }
  } catch {
    // not JSON: not OPA's error shape
  }
  return undefined;
}
