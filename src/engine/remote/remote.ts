/**
 * The remote engine: the same bundle evaluated by an OPA sidecar (`opa run --server`) through
 * OPA's data API, `POST /v1/data/<path>`. One keep-alive agent per engine, one deadline per
 * decision (retries included), a bounded retry budget shared by all calls, and typed errors that
 * the deciding code turns into the fail-closed decision.
 */
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { AxiosInstance } from "axios";
import type { Input } from "../../contracts/input.js";
import { ConfigInvalidError, EngineTimeoutError, EngineUndefinedError } from "../../errors.js";
import { DECISION_ENTRYPOINT } from "../../bundle/build.js";
import { axios, nodeHttp, nodeHttps } from "../../lazy.js";
import type { AsyncEngine } from "../engine.js";
import { networkFailure, statusFailure, type Failure } from "./remote-failure.js";
import { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetOptions } from "./retry-budget.js";
import { readAnswer, readBundles, type SidecarAnswer, type SidecarBundle } from "./sidecar-answer.js";

export interface RemoteEngineOptions {
  /** The sidecar's base URL, for instance `http://127.0.0.1:8181`. */
  readonly url: string;
  /** The decision's path under `/v1/data/`; `stepup/decision` by default. */
  readonly path?: string;
  /** Deadline for one decision in milliseconds, retries included; 200 by default (Envoy's ext_authz default). */
  readonly timeoutMs?: number;
  /** Further attempts after a passing failure (refused or reset connection, 502/503/504); 1 by default. */
  readonly retries?: number;
  /** Retry throttling shared by all calls of this engine. */
  readonly retryBudget?: RetryBudgetOptions;
  /** Sockets kept open to the sidecar; 32 by default. */
  readonly maxSockets?: number;
  /** Headers sent with every call, for instance `Authorization` when OPA runs with token authentication. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Health {
  /** OPA is up and its bundles are activated (`GET /health?bundles` answered 200). */
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
}

// Small pause before a retry: long enough for a restarting sidecar's listener, short against the deadline.
const RETRY_DELAY_MS = 5;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Evaluates stepup's decision in an OPA sidecar. Most callers want `RemoteStepup`, which adds
 * validation, rendering and the fail-closed decision on top.
 * @example
 * const engine = new RemoteEngine({ url: "http://127.0.0.1:8181", timeoutMs: 200 });
 * const { result, revisions } = await engine.decide(input);
 */
export class RemoteEngine implements AsyncEngine {
  /** The sidecar's address without credentials or query, for messages and logs. */
  readonly url: string;
  readonly path: string;
  readonly timeoutMs: number;
  private readonly retries: number;
  private readonly budget: RetryBudget;
  private readonly http: AxiosInstance;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private lastRevision = "";

  constructor(options: RemoteEngineOptions) {
    const base = parseUrl(options.url);
    this.url = `${base.protocol}//${base.host}${base.pathname.replace(/\/$/, "")}`;
    this.path = (options.path ?? DECISION_ENTRYPOINT).replace(/^\/+|\/+$/g, "");
    this.timeoutMs = options.timeoutMs ?? 200;
    this.retries = options.retries ?? 1;
    const issues = [
      ...(this.timeoutMs > 0 ? [] : [{ path: "timeoutMs", message: "expected a positive number of milliseconds" }]),
      ...(Number.isInteger(this.retries) && this.retries >= 0 ? [] : [{ path: "retries", message: "expected a whole number ≥ 0" }]),
    ];
    if (issues.length > 0) throw new ConfigInvalidError(issues);
    this.budget = new RetryBudget(options.retryBudget ?? DEFAULT_RETRY_BUDGET);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
    this.agents = { http: new (nodeHttp().Agent)(agentOptions), https: new (nodeHttps().Agent)(agentOptions) };
    this.http = axios().create({
      baseURL: options.url.replace(/\/$/, ""),
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      headers: { "content-type": "application/json", ...options.headers },
      responseType: "text",
      transformResponse: [(body: unknown) => body],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_BODY_BYTES,
      proxy: false,
    });
  }

  /** The bundle revision of the sidecar's last answer ("" before the first). */
  get revision(): string {
    return this.lastRevision;
  }

  /** Tokens left in the retry budget. */
  get retryTokens(): number {
    return this.budget.available;
  }

  /** The decision's raw result; throws a typed error when the sidecar cannot give one. */
  async evaluate(input: Input): Promise<unknown> {
    return (await this.decide(input)).result;
  }

  /** The decision's raw result with the revision of every bundle the sidecar reports (`?provenance`). */
  async decide(input: Input): Promise<SidecarAnswer> {
    const body = JSON.stringify({ input });
    const text = await this.call("post", `/v1/data/${this.path}?provenance`, body);
    const answer = readAnswer(text, this.url);
    if (answer.result === undefined) throw new EngineUndefinedError(`the sidecar gave no decision at ${this.path}`);
    const revisions = Object.values(answer.revisions);
    if (revisions.length === 1) this.lastRevision = revisions[0] as string;
    return answer;
  }

  /** The bundles the sidecar has activated, with their manifests (`GET /v1/data/system/bundles`). */
  async bundles(): Promise<SidecarBundle[]> {
    return readBundles(await this.call("get", "/v1/data/system/bundles"), this.url);
  }

  /** OPA's own readiness: up, with its bundles activated. Never throws. */
  async health(): Promise<Health> {
    try {
      const response = await this.http.get<string>("/health?bundles", { signal: AbortSignal.timeout(this.timeoutMs) });
      if (response.status === 200) return { ok: true, status: 200 };
      return { ok: false, status: response.status, error: String(response.data ?? "").slice(0, 500) };
    } catch (err) {
      return { ok: false, error: networkFailure(err, this.url, this.timeoutMs, false).error.message };
    }
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async call(method: "get" | "post", path: string, body?: string): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const failure = await this.attempt(method, path, body, deadline);
      if (typeof failure === "string") {
        this.budget.onSuccess();
        return failure;
      }
      this.budget.onFailure();
      const remaining = deadline - Date.now();
      if (!failure.retryable || attempt >= this.retries || !this.budget.canRetry || remaining <= RETRY_DELAY_MS) {
        throw failure.error;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }

  /** One attempt: the body of a 200, or what went wrong. */
  private async attempt(method: "get" | "post", path: string, body: string | undefined, deadline: number): Promise<string | Failure> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { error: new EngineTimeoutError(this.url, this.timeoutMs), retryable: false };
    try {
      const response = await this.http.request<string>({
        method,
        url: path,
        data: body,
        timeout: remaining,
        signal: AbortSignal.timeout(remaining),
      });
      if (response.status === 200) return response.data;
      return statusFailure(response.status, String(response.data ?? ""), this.url);
    } catch (err) {
      return networkFailure(err, this.url, this.timeoutMs, Date.now() >= deadline);
    }
  }
}

function parseUrl(url: string): URL {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return parsed;
  } catch {
    // Named below.
  }
  throw new ConfigInvalidError([{ path: "url", message: "expected an http or https URL" }]);
}
