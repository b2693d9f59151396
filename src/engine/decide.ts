/**
 * The decision path shared by the facade (`Stepup.decide`) and the decision pool's threads: the
 * caller's document checked against the input contract, evaluated, and concluded into a decision
 * or the fail-closed deny.
 */
import type { Decision } from "../contracts/decision.js";
import { conclude, type ConcludeContext, type ConcludeHooks } from "../decision/conclude.js";
import { checkParsedInput, snapshotInput } from "../input/snapshot.js";
import { parseSnapshot } from "../input/validate.js";
import type { Engine } from "./engine.js";

/**
 * `decide` on any engine. The caller's document is read once, and everything after reads what
 * was read (so what is evaluated is what is logged). An engine that checks a document as it takes
 * it (the in-process one reads it once while writing it into the policy's memory, and keeps what
 * it read) hands back that input and its evaluation. A document it does not accept, or any
 * document for an engine that does not check, is read into a snapshot (snapshot.ts) and goes
 * through `parseSnapshot`, whose zod path names every problem; what is evaluated and logged is
 * then that snapshot. A document that is `parsed` data already (from JSON, or cloned from another
 * thread) has nothing to read twice: it is only checked for text that is not Unicode, without a
 * copy.
 */
export function decideDocument(engine: Engine, raw: unknown, ctx: ConcludeContext, hooks: ConcludeHooks, parsed = false): Decision {
  const taken = engine.takeChecked?.(raw, parsed);
  if (taken) return conclude(taken.input, ctx, hooks, taken.evaluate);
  const input = parseSnapshot(parsed ? checkParsedInput(raw) : snapshotInput(raw));
  return conclude(input, ctx, hooks, () => engine.evaluate(input));
}
