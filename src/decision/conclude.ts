/**
 * From what an engine returned to the decision: the verdict validated and rendered, or — when the
 * engine threw or returned something that is not a verdict — the fail-closed deny, reported.
 * Shared by every engine, synchronous (wasm) or not (a sidecar).
 */
import type { Decision, Verdict } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { EngineEvaluationError, isStepupError, type StepupErrors } from "../errors.js";
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
}

export interface ConcludeHooks {
  readonly onError: (error: StepupErrors, input: Input, decisionId: string) => void;
  readonly onDecision?: (event: DecisionEvent) => void;
}

export function conclude(input: Input, ctx: RenderContext, hooks: ConcludeHooks, evaluate: () => unknown): Decision {
  const start = clock(hooks);
  try {
    return succeed(input, ctx, hooks, evaluate(), start);
  } catch (err) {
    return fail(input, ctx, hooks, err, start);
  }
}

export async function concludeAsync(
  input: Input,
  ctx: RenderContext,
  hooks: ConcludeHooks,
  evaluate: () => Promise<unknown>,
): Promise<Decision> {
  const start = clock(hooks);
  try {
    return succeed(input, ctx, hooks, await evaluate(), start);
  } catch (err) {
    return fail(input, ctx, hooks, err, start);
  }
}

// The clock is read only for onDecision, its one reader.
function clock(hooks: ConcludeHooks): bigint {
  return hooks.onDecision ? process.hrtime.bigint() : 0n;
}

function succeed(input: Input, ctx: RenderContext, hooks: ConcludeHooks, raw: unknown, start: bigint): Decision {
  const verdict = parseVerdict(raw);
  const decision = render(verdict, input, ctx);
  hooks.onDecision?.({ input, decision, verdict, durationNs: Number(process.hrtime.bigint() - start) });
  return decision;
}

function fail(input: Input, ctx: RenderContext, hooks: ConcludeHooks, err: unknown, start: bigint): Decision {
  const error = asStepupError(err);
  hooks.onError(error, input, ctx.decisionId);
  const decision = failClosed(input, error, ctx);
  hooks.onDecision?.({ input, decision, error, durationNs: Number(process.hrtime.bigint() - start) });
  return decision;
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
