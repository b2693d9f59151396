/**
 * The decision path shared by the facade (`Stepup.decide`) and the decision pool's threads: the
 * caller's document checked against the input contract, evaluated, and concluded into a decision
 * or the fail-closed deny.
 */
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { conclude, type CheckedDocument, type ConcludeContext, type ConcludeHooks } from "../decision/conclude.js";
import { checkParsedInput, snapshotInput } from "../input/snapshot.js";
import { normalizeInput, parseSnapshot } from "../input/validate.js";
import type { Engine } from "./engine.js";

/**
 * `decide` on any engine. The caller's document is read once, into a snapshot that everything
 * after reads (so what is evaluated is what is logged). An engine that checks a document as it
 * takes it (the in-process one writes it into the policy's memory in one pass) hands back its
 * evaluation; a document it does not accept, or any document for an engine that does not check,
 * goes through `parseSnapshot`, whose zod path names every problem. A document that is `parsed`
 * data already (from JSON, or cloned from another thread) has nothing to read twice: it is only
 * checked for text that is not Unicode, without a copy.
 */
export function decideDocument(engine: Engine, raw: unknown, ctx: ConcludeContext, hooks: ConcludeHooks, parsed = false): Decision {
  const doc = parsed ? checkParsedInput(raw) : snapshotInput(raw);
  const evaluation = engine.takeChecked?.(doc);
  if (evaluation) return conclude(checkedDocument(doc), ctx, hooks, evaluation);
  const input = parseSnapshot(doc);
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
