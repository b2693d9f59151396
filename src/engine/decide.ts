/**
 * The decision path shared by the facade (`Stepup.decide`) and the decision pool's threads: the
 * caller's document checked against the input contract, evaluated, and concluded into a decision
 * or the fail-closed deny.
 */
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { conclude, type CheckedDocument, type ConcludeHooks } from "../decision/conclude.js";
import type { RenderContext } from "../decision/render.js";
import { normalizeInput, parseInput } from "../input/validate.js";
import type { Engine } from "./engine.js";

/**
 * `decide` on any engine. An engine that checks a document as it takes it (the in-process one
 * writes it into the policy's memory in one pass) hands back its evaluation; a document it does
 * not accept, or any document for an engine that does not check, goes through `parseInput`, whose
 * zod path names every problem.
 */
export function decideDocument(engine: Engine, raw: unknown, ctx: RenderContext, hooks: ConcludeHooks): Decision {
  const evaluation = engine.takeChecked?.(raw);
  if (evaluation) return conclude(checkedDocument(raw), ctx, hooks, evaluation);
  const input = parseInput(raw);
  return conclude(input, ctx, hooks, () => engine.evaluate(input));
}

/**
 * A caller's document that the engine's check accepted, normalized only if someone reads the
 * whole of it (listeners, and the fail-closed path): the decision itself reads its target alone.
 */
function checkedDocument(raw: unknown): CheckedDocument {
  let normalized: Input | undefined;
  return {
    target: (raw as Input).target,
    normalized: () => (normalized ??= normalizeInput(raw)),
  };
}
