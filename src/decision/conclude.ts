/**
 * From what an engine returned to the decision: the verdict validated and rendered, or — when the
 * engine threw or returned something that is not a verdict — the fail-closed deny, reported.
 * Shared by every engine, synchronous (wasm) or not (a sidecar).
 */
import type { Decision, Verdict } from "../contracts/decision.js";
import type { ShadowOutcome } from "../contracts/decision-log.js";
import type { Input } from "../contracts/input.js";
import { EngineEvaluationError, isStepupError, type StepupErrors } from "../errors.js";
import type { TraceIds } from "../tracing.js";
import { failClosed } from "./fail-closed.js";
import { render, type RenderContext } from "./render.js";
import { parseVerdict } from "./verdict.js";

/** What happened for one decision; given to `onDecision` listeners (audit, metrics). */
export interface DecisionEvent {
  readonly input: Input;
  readonly decision: Decision;
  /** The policy's own answer; absent when it failed and the decision is the fail-closed one. */
  readonly verdict?: Verdict;
  readonly error?: StepupErrors;
  /** Evaluation and rendering time in nanoseconds. */
  readonly durationNs: number;
  /**
   * In a report-only rollout, what the candidate revision decided on the same input (recorded,
   * never enforced); absent when no candidate is held.
   */
  readonly shadow?: ShadowOutcome;
  /** The OpenTelemetry trace and span of the decision, when a tracing SDK is registered. */
  readonly trace?: TraceIds;
}

/** How a decision is concluded: the render context, and the trace it was made in, if any. */
export interface ConcludeContext extends RenderContext {
  readonly trace?: TraceIds;
}

/**
 * A document checked against the input contract as it was written into the policy's memory.
 * Concluding a decision reads only its target; the normalized copy (every unknown filled with
 * null) is made only for those that receive the whole input: `onDecision` listeners, and
 * `onError` with the fail-closed decision when evaluating failed.
 */
export interface CheckedDocument {
  readonly target: Input["target"];
  normalized(): Input;
}

/** The input a decision is concluded on: normalized already, or checked and normalized on demand. */
export type ConcludeInput = Input | CheckedDocument;

function whole(input: ConcludeInput): Input {
  return "normalized" in input ? input.normalized() : input;
}

export interface ConcludeHooks {
  readonly onError: (error: StepupErrors, input: Input, decisionId: string) => void;
  readonly onDecision?: (event: DecisionEvent) => void;
}

export function conclude(input: ConcludeInput, ctx: ConcludeContext, hooks: ConcludeHooks, evaluate: () => unknown): Decision {
  const start = clock(hooks);
  let settled: Settled;
  try {
    settled = decided(input, ctx, evaluate());
  } catch (err) {
    settled = failed(input, ctx, hooks, err);
  }
  return announce(hooks, input, settled, start, ctx.trace);
}

export async function concludeAsync(
  input: ConcludeInput,
  ctx: ConcludeContext,
  hooks: ConcludeHooks,
  evaluate: () => Promise<unknown>,
): Promise<Decision> {
  const start = clock(hooks);
  let settled: Settled;
  try {
    settled = decided(input, ctx, await evaluate());
  } catch (err) {
    settled = failed(input, ctx, hooks, err);
  }
  return announce(hooks, input, settled, start, ctx.trace);
}

interface Settled {
  readonly decision: Decision;
  readonly verdict?: Verdict;
  readonly error?: StepupErrors;
}

// The clock is read only for onDecision, its one reader: the monotonic clock in milliseconds with
// its nanoseconds as fractions (no BigInt made on every decision, as hrtime.bigint() makes).
function clock(hooks: ConcludeHooks): number {
  return hooks.onDecision ? performance.now() : 0;
}

function decided(input: ConcludeInput, ctx: RenderContext, raw: unknown): Settled {
  const verdict = parseVerdict(raw);
  return { decision: render(verdict, input.target, ctx), verdict };
}

function failed(input: ConcludeInput, ctx: RenderContext, hooks: ConcludeHooks, err: unknown): Settled {
  const error = asStepupError(err);
  const full = whole(input);
  hooks.onError(error, full, ctx.decisionId);
  return { decision: failClosed(full, error, ctx), error };
}

// Listeners run after the decision is made, outside the evaluation's try: a listener that throws
// cannot turn a decision into the fail-closed one, and is reported without hiding the decision.
function announce(hooks: ConcludeHooks, input: ConcludeInput, settled: Settled, start: number, trace: TraceIds | undefined): Decision {
  if (hooks.onDecision) {
    try {
      const durationNs = Math.round((performance.now() - start) * 1e6);
      hooks.onDecision(trace ? { input: whole(input), ...settled, durationNs, trace } : { input: whole(input), ...settled, durationNs });
    } catch (err) {
      const line = { level: "error", msg: "stepup onDecision listener failed", error: String(err), decision_id: settled.decision.decision_id };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    }
  }
  return settled.decision;
}

/** Any failure as a typed error: stepup's own pass through, anything else is an evaluation error. */
export function asStepupError(err: unknown): StepupErrors {
  if (isStepupError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineEvaluationError(`engine failed: ${message}`, { cause: err });
}

/** The default `onError`: one line of JSON on stderr naming the error and the target, never the input. */
export function logFailure(error: StepupErrors, input: Input, decisionId: string): void {
  process.stderr.write(
    `${JSON.stringify({
      level: "error",
      msg: "stepup could not decide; failing closed",
      code: error.code,
      error: error.message,
      decision_id: decisionId,
      app: input.target.app,
      action: input.target.action,
    })}\n`,
  );
}
