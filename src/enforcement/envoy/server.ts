/**
 * The Node ext_authz server: `envoy.service.auth.v3.Authorization/Check` over @grpc/grpc-js, each
 * CheckRequest decided in-process on the bundle's wasm by the SDK's guard with its full signal
 * collection (tokens, posture, zones and lists, geography, the behaviour store). It answers what
 * the opa-envoy-plugin entrypoint answers, serves gRPC health checks, shuts down gracefully, and
 * has a configurable failure mode for when stepup cannot decide. It never crashes on a request:
 * a malformed one is denied (fail closed) and logged.
 */
import { randomUUID } from "node:crypto";
import type { Server, ServerCredentials, ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { HealthImplementation } from "grpc-health-check";
import type { EnvoySettings } from "../../contracts/envoy.js";
import type { Input } from "../../contracts/input.js";
import { CheckRequestInvalidError, EngineEvaluationError, EngineTimeoutError, ListenFailedError, type StepupErrors } from "../../errors.js";
import { asStepupError } from "../../decision/conclude.js";
import { parseInput } from "../../input/validate.js";
import { grpc, grpcHealth } from "../../lazy.js";
import { Signals, type SignalsOptions } from "../../signals/collect.js";
import type { Stepup } from "../../stepup.js";
import { answerDecision } from "../answer.js";
import { Guard, type GuardOptions, type GuardResult } from "../guard.js";
import { readCheckRequest, type EdgeRequest } from "./check-request.js";
import { GRPC, checkResponse, type CheckResponseObject } from "./check-response.js";
import { AUTHORIZATION_SERVICE, authorizationService, type Decoded } from "./protos.js";
import { envoySignalsOptions } from "./settings.js";

/**
 * What Envoy is told when stepup cannot decide (the policy failed, a signal source failed on a
 * sensitive target, the check overran its deadline): `deny` (the default) answers the fail-closed
 * 403; `allow` lets the request through with `x-stepup-failure: <code>`; `error` answers gRPC
 * UNAVAILABLE, so that Envoy's own `failure_mode_allow` decides. A malformed request is denied
 * whatever the mode: it is the request's fault, not stepup's.
 */
export type FailureMode = "deny" | "allow" | "error";

export interface ExtAuthzOptions {
  /** Routes, fallback app and realm; the same document opa-envoy-plugin reads as data.stepup_envoy. */
  readonly settings?: EnvoySettings;
  readonly failureMode?: FailureMode;
  /** The most a check may take before it counts as a failure to decide; 1000 ms by default. Keep it under Envoy's timeout. */
  readonly timeoutMs?: number;
  /** The largest CheckRequest accepted (gRPC RESOURCE_EXHAUSTED beyond); 4 MiB by default, as opa-envoy-plugin. */
  readonly maxRequestBytes?: number;
  /** Told about malformed requests and failures to decide; a JSON line on stderr by default (no token, no header). */
  readonly onError?: (error: StepupErrors, context: { readonly requestId: string; readonly outcome: string }) => void;
}

/** Options of `ExtAuthzServer.fromSettings`: the edge settings build the signals and the guard. */
export interface FromSettingsOptions extends Omit<ExtAuthzOptions, "settings"> {
  readonly stepup: Stepup;
  readonly settings: EnvoySettings;
  /** Signal options over those of the settings: geography, the behaviour store, more lists. */
  readonly signals?: SignalsOptions;
  readonly guard?: Omit<GuardOptions, "realm">;
}

// The request's own fault: denied whatever the failure mode.
const REQUEST_FAULTS = new Set([
  "ERR_CHECK_REQUEST_INVALID",
  "ERR_TARGET_UNMAPPED",
  "ERR_TARGET_AMBIGUOUS",
  "ERR_INPUT_INVALID",
  "ERR_INPUT_NOT_JSON",
  "ERR_TOKEN_INVALID",
]);

export class ExtAuthzServer {
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private readonly settings: EnvoySettings;
  private bound: number | null = null;

  constructor(
    readonly guard: Guard,
    private readonly options: ExtAuthzOptions = {},
  ) {
    this.settings = options.settings ?? {};
    this.server = new (grpc().Server)({
      "grpc.max_receive_message_length": options.maxRequestBytes ?? 4 * 2 ** 20,
      // channelz bookkeeping costs every call, and nothing here serves the channelz service.
      "grpc.enable_channelz": 0,
    });
    this.health = new (grpcHealth().HealthImplementation)({ "": "SERVING", [AUTHORIZATION_SERVICE]: "SERVING" });
    this.server.addService(authorizationService(), {
      Check: (call: ServerUnaryCall<Decoded, CheckResponseObject>, done: sendUnaryData<CheckResponseObject>) => {
        this.check(call.request).then(
          (answer) => (answer.error ? done(answer.error) : done(null, answer.response)),
          (err) => done({ code: grpc().status.INTERNAL, details: String(err) }),
        );
      },
    });
    this.health.addToServer(this.server);
  }

  /**
   * Builds the signals and the guard from the edge settings, then the server.
   * @example
   * const server = await ExtAuthzServer.fromSettings({ stepup, settings, signals: { behavior: { store } } });
   * const port = await server.listen({ port: 9191 });
   */
  static async fromSettings(options: FromSettingsOptions): Promise<ExtAuthzServer> {
    const { stepup, settings, signals: extra, guard: guardOptions, ...rest } = options;
    const signals = await Signals.create({ ...envoySignalsOptions(settings), ...extra });
    const guard = new Guard(stepup, signals, { ...guardOptions, ...(settings.realm && { realm: settings.realm }) });
    return new ExtAuthzServer(guard, { ...rest, settings });
  }

  /** Starts listening (127.0.0.1 by default; port 0 picks a free one); resolves with the port. */
  async listen(options: { host?: string; port?: number; credentials?: ServerCredentials } = {}): Promise<number> {
    const host = options.host ?? "127.0.0.1";
    const address = host.includes(":") ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`;
    this.bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, options.credentials ?? grpc().ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new ListenFailedError(address, err.message, { cause: err })) : resolve(port),
      ),
    );
    return this.bound;
  }

  /** The port it listens on, once listening. */
  get port(): number | null {
    return this.bound;
  }

  /**
   * Graceful shutdown: health turns NOT_SERVING (so Envoy's health checks move traffic away), no new
   * calls are accepted, calls in flight finish; after `deadlineMs` (5 s by default) the rest are cancelled.
   */
  async close(deadlineMs = 5_000): Promise<void> {
    this.health.setStatus("", "NOT_SERVING");
    this.health.setStatus(AUTHORIZATION_SERVICE, "NOT_SERVING");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, deadlineMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Decides one CheckRequest; never throws. */
  async check(decoded: Decoded): Promise<{ response?: CheckResponseObject; error?: { code: number; details: string } }> {
    let edge: EdgeRequest | null = null;
    try {
      if (!decoded.ok) throw new CheckRequestInvalidError([{ path: "(message)", message: decoded.reason }]);
      edge = readCheckRequest(decoded.request, this.settings);
      const result = await this.withDeadline(this.guard.check(edge.facts, edge.target ?? undefined));
      // The guard already failed closed; another failure mode answers otherwise.
      const failure = result.decision?.error;
      if (failure && !REQUEST_FAULTS.has(failure.code) && (this.options.failureMode ?? "deny") !== "deny") {
        return this.failed(result.error ?? new EngineEvaluationError(failure.message), edge);
      }
      return { response: checkResponse(result.answer, result.decision, this.context(edge)) };
    } catch (err) {
      const error = asStepupError(err);
      if (REQUEST_FAULTS.has(error.code)) return this.deny(error, edge);
      return this.failed(error, edge);
    }
  }

  private failed(error: StepupErrors, edge: EdgeRequest | null): { response?: CheckResponseObject; error?: { code: number; details: string } } {
    const mode = this.options.failureMode ?? "deny";
    if (mode === "deny") return this.deny(error, edge);
    this.report(error, edge, mode === "allow" ? "allowed (failure mode allow)" : "gRPC UNAVAILABLE (failure mode error)");
    if (mode === "error") return { error: { code: grpc().status.UNAVAILABLE, details: `stepup could not decide: ${error.code}` } };
    return {
      response: {
        status: { code: GRPC.OK },
        ok_response: { headers: [{ header: { key: "x-stepup-failure", value: error.code } }] },
      },
    };
  }

  /** The fail-closed deny, decided and logged through the SDK like any failure to decide. */
  private deny(error: StepupErrors, edge: EdgeRequest | null): { response: CheckResponseObject } {
    const stepup = this.guard.stepup;
    const decision = stepup.failClosed(placeholder(edge), error);
    this.report(error, edge, "denied (fail closed)");
    return { response: checkResponse(answerDecision(decision, false), decision, this.context(edge)) };
  }

  private context(edge: EdgeRequest | null): { requestId: string; revision: string } {
    return { requestId: edge?.requestId ?? randomUUID(), revision: this.guard.stepup.revision };
  }

  private withDeadline(work: Promise<GuardResult>): Promise<GuardResult> {
    const ms = this.options.timeoutMs ?? 1_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineTimeoutError("ext_authz check", ms)), ms);
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }

  private report(error: StepupErrors, edge: EdgeRequest | null, outcome: string): void {
    const requestId = edge?.requestId ?? "";
    if (this.options.onError) return this.options.onError(error, { requestId, outcome });
    const line = { level: "warn", msg: "stepup ext_authz", outcome, code: error.code, error: error.message, request_id: requestId, method: edge?.facts.method, path: edge?.facts.path };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}

// The smallest valid input naming what is known of the target, for a deny when nothing could be decided.
function placeholder(edge: EdgeRequest | null): Input {
  const target = edge?.target;
  return parseInput({
    now: edge?.facts.time ?? Math.floor(Date.now() / 1000),
    subject: { id: "unknown", kind: "human" },
    target: target ? { app: target.app, action: target.action } : { app: "unmapped", action: "unknown" },
  });
}
