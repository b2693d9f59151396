/**
 * The guard: collect the signals for a request, decide, and say how to answer. It never throws
 * and never lets a failure become an allow: a token that does not verify is 401 `invalid_token`;
 * an unmapped route or a broken input is a fail-closed deny; a signal source that failed (keys
 * unreachable, Redis down) denies on sensitive targets — tier from the bundle's own catalog — and
 * elsewhere leaves that signal unknown for the policy to weigh.
 *
 * It also keeps the behaviour store honest, for every integration built on it: a step-up it
 * answers is a prompt sent (the MFA-fatigue count), and only a request allowed on a session that
 * met its requirement teaches the subject's profile; a request that merely presents a token does not.
 */
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { isStepupError, type StepupErrors } from "../errors.js";
import { EngineEvaluationError } from "../errors.js";
import { parseInput } from "../input/validate.js";
import type { Collected, Signals } from "../signals/collect.js";
import type { RequestFacts } from "../signals/request.js";
import type { TargetOverride } from "../signals/target.js";
import type { Stepup } from "../stepup.js";
import { applyRecord, type BehaviorRecord } from "../signals/behavior/records.js";
import { inSpanAsync, SPAN } from "../tracing.js";
import { answerDecision, answerInvalidToken, type HttpAnswer } from "./answer.js";

export type Tier = "low" | "standard" | "high" | "critical";
const RANK: Record<Tier, number> = { low: 0, standard: 1, high: 2, critical: 3 };

export interface GuardOptions {
  /** Tier from which a failed signal source fails closed; `high` by default (the policy's "sensitive"). */
  readonly failClosedFrom?: Tier;
  /** `realm` of the challenges. */
  readonly realm?: string;
  /** Told about every rejected token and failed source; a JSON line on stderr by default (no token, no input). */
  readonly onSignalError?: (error: StepupErrors, req: RequestFacts) => void;
  /** Record prompts sent and learn from proven requests in the behaviour store; true by default. */
  readonly learn?: boolean;
}

/** What the guard found and how to answer; integrations attach it to the request. */
export interface GuardResult {
  readonly answer: HttpAnswer;
  /** The decision, absent only when the token did not verify (nothing was decided). */
  readonly decision: Decision | null;
  readonly collected: Collected | null;
  /** The error that shaped the answer, if any. */
  readonly error: StepupErrors | null;
  /**
   * The behaviour store's update for this request (a prompt sent, or a proven request learnt),
   * which the answer does not wait for; a failure is reported through `onSignalError`.
   */
  readonly learned: Promise<void>;
}

const NOTHING = Promise.resolve();

export class Guard {
  private readonly failClosedFrom: number;

  constructor(
    readonly stepup: Stepup,
    readonly signals: Signals,
    private readonly options: GuardOptions = {},
  ) {
    this.failClosedFrom = RANK[options.failClosedFrom ?? "high"];
  }

  /** Collects, decides and answers for one request. */
  async check(req: RequestFacts, target?: TargetOverride): Promise<GuardResult> {
    const challenge = { ...(this.options.realm ? { realm: this.options.realm } : {}) };
    let collected: Collected;
    try {
      collected = await inSpanAsync(SPAN.collect, { "http.request.method": req.method }, () => this.signals.collect(req, target));
    } catch (err) {
      const error = isStepupError(err) ? err : new EngineEvaluationError(`signal collection failed: ${String(err)}`, { cause: err });
      this.report(error, req);
      if (error.code === "ERR_TOKEN_INVALID") return { answer: answerInvalidToken(error, challenge), decision: null, collected: null, error, learned: NOTHING };
      const decision = this.stepup.failClosed(placeholder(req, target), error);
      return { answer: answerDecision(decision, hasToken(req), challenge), decision, collected: null, error, learned: NOTHING };
    }
    const { input, failures } = collected;
    for (const failure of failures) this.report(failure, req);
    const failure = failures[0] ?? null;
    const decision = failure && this.sensitive(input) ? this.stepup.failClosed(input, failure) : this.stepup.decideInput(input);
    const learned = this.options.learn === false ? NOTHING : this.learn(decision, collected, req);
    return { answer: answerDecision(decision, collected.authenticated, challenge), decision, collected, error: failure, learned };
  }

  /**
   * Records the request's features and place as a proven authentication of its subject: call it
   * once the identity provider confirmed a login or a step-up for this request. When the behaviour
   * store cannot be reached it throws `StateWriteError`, whose `record` keeps the login for
   * `retryRecord`; the HTTP integrations answer it with a 503 and `Retry-After`.
   */
  async recordLogin(result: GuardResult): Promise<void> {
    if (result.collected) await this.signals.recordLogin(result.collected);
  }

  private learn(decision: Decision, collected: Collected, req: RequestFacts): Promise<void> {
    let work: Promise<void>;
    if (decision.outcome === "step_up") work = this.signals.recordPrompt(collected);
    else if (decision.outcome === "allow" && decision.satisfied) work = this.signals.recordLogin(collected);
    else return NOTHING;
    return work.catch((err) => this.report(isStepupError(err) ? err : new EngineEvaluationError(`behaviour not recorded: ${String(err)}`, { cause: err }), req));
  }

  /** Applies a write kept from a `StateWriteError` (throws it again while the store is unreachable). */
  async retryRecord(record: BehaviorRecord): Promise<void> {
    if (this.signals.behavior) await applyRecord(this.signals.behavior, record);
  }

  /** The target's tier from the bundle; when even that fails, it counts as sensitive. */
  private sensitive(input: Input): boolean {
    try {
      return RANK[this.stepup.evaluate(input).tier] >= this.failClosedFrom;
    } catch {
      return true;
    }
  }

  private report(error: StepupErrors, req: RequestFacts): void {
    if (this.options.onSignalError) return this.options.onSignalError(error, req);
    const line = { level: "warn", msg: "stepup signal problem", code: error.code, error: error.message, method: req.method, path: req.path };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}

function hasToken(req: RequestFacts): boolean {
  return req.headers.authorization !== undefined;
}

// The smallest valid input naming the target, for a deny when the request could not be read.
function placeholder(req: RequestFacts, target?: TargetOverride): Input {
  return parseInput({
    now: req.time ?? Math.floor(Date.now() / 1000),
    subject: { id: "unknown", kind: "human" },
    target: { app: target?.app ?? "unmapped", action: (target?.action ?? req.method.toLowerCase()).slice(0, 64) || "unknown" },
  });
}
