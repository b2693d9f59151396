/**
 * Replaying logged decisions. `verify` re-evaluates each event's input on the bundle of the
 * revision it names (from the bundle store) and checks the verdict comes out as logged. `whatIf`
 * evaluates the same inputs on a candidate bundle and reports what would change: outcome
 * transitions, reasons gained and lost, per app, and the prompt rate before and after. Both stream
 * the log, keeping counts and a few examples, so months of logs fit in memory.
 */
import { isDeepStrictEqual } from "node:util";
import type { Verdict } from "../contracts/decision.js";
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import type { Input } from "../contracts/input.js";
import type { Bundle } from "../bundle/load.js";
import { isStepupError, RevisionNotFoundError } from "../errors.js";
import { parseInput } from "../input/validate.js";
import { Stepup } from "../stepup.js";
import { WasmEngine } from "../engine/wasm.js";
import { eventRevision } from "./review.js";

/** Finds the bundle of a revision (a `BundleStore`, or a map of bundles at hand). */
export interface RevisionSource {
  get(revision: string): Promise<Bundle>;
}

/** What evaluating gave: a verdict, or the code of the error that made the SDK fail closed. */
export type Evaluation = { verdict: Verdict } | { error: string };

/** One example of a decision that did not replay as logged. */
export interface ReplayExample {
  readonly decision_id: string;
  readonly revision: string | undefined;
  readonly app: string | undefined;
  readonly logged: string;
  readonly replayed: string;
  readonly input_masked: boolean;
}

export interface VerifyReport {
  readonly events: number;
  readonly reproduced: number;
  /** Came out differently; those whose input was masked in the log are counted in `differed_masked` too. */
  readonly differed: number;
  readonly differed_masked: number;
  /** Whose logged input no longer passes the input contract (masked away, or not stepup's). */
  readonly unreplayable: number;
  /** Events per revision the store does not hold. */
  readonly missing_revisions: Record<string, number>;
  readonly revisions: Record<string, number>;
  readonly examples: ReplayExample[];
}

/** The outcome of each side, as a transition `allow→step_up`. */
export type Transition = `${string}→${string}`;

export interface WhatIfReport {
  readonly candidate_revision: string;
  readonly events: number;
  readonly unreplayable: number;
  /** Every pair, unchanged ones included (`allow→allow`). */
  readonly transitions: Record<Transition, number>;
  readonly changed_outcome: number;
  /** Same outcome, but something else in the verdict changed (requirement, reasons, risk). */
  readonly changed_other: number;
  readonly by_reason: Record<string, { before: number; after: number; gained: number; lost: number }>;
  readonly by_app: Record<string, { decisions: number; changed: number; transitions: Record<Transition, number> }>;
  readonly prompt_rate: { before: number; after: number };
  readonly deny_rate: { before: number; after: number };
  readonly examples: ReplayExample[];
}

/** Evaluates inputs on bundles, compiling each bundle once. */
export class Evaluator {
  private readonly sdks = new Map<string, Promise<Stepup>>();

  async evaluate(bundle: Bundle, input: Input): Promise<Evaluation> {
    let sdk = this.sdks.get(bundle.revision);
    if (!sdk) {
      sdk = WasmEngine.load(bundle).then((engine) => new Stepup(bundle, engine));
      this.sdks.set(bundle.revision, sdk);
    }
    try {
      return { verdict: (await sdk).evaluate(input) };
    } catch (err) {
      if (isStepupError(err)) return { error: err.code };
      throw err;
    }
  }
}

/** Re-evaluates every event on its own revision and counts what reproduces. */
export async function verify(
  events: AsyncIterable<DecisionLogEvent>,
  source: RevisionSource,
  options: { examples?: number } = {},
): Promise<VerifyReport> {
  const evaluator = new Evaluator();
  const maxExamples = options.examples ?? 20;
  const report = {
    events: 0, reproduced: 0, differed: 0, differed_masked: 0, unreplayable: 0,
    missing_revisions: {} as Record<string, number>, revisions: {} as Record<string, number>,
    examples: [] as ReplayExample[],
  };
  for await (const event of events) {
    report.events++;
    const revision = eventRevision(event) ?? "";
    report.revisions[revision] = (report.revisions[revision] ?? 0) + 1;
    const input = replayableInput(event);
    if (!input) {
      report.unreplayable++;
      continue;
    }
    // A revision the source lacks is asked for once, not once per event: each miss is a failed
    // read of the store and an error with its stack.
    if (Object.hasOwn(report.missing_revisions, revision)) {
      report.missing_revisions[revision]!++;
      continue;
    }
    let bundle: Bundle;
    try {
      bundle = await source.get(revision);
    } catch (err) {
      if (!(err instanceof RevisionNotFoundError)) throw err;
      report.missing_revisions[revision] = (report.missing_revisions[revision] ?? 0) + 1;
      continue;
    }
    const replayed = await evaluator.evaluate(bundle, input);
    const logged = loggedEvaluation(event);
    if (sameEvaluation(logged, alignMasked(replayed, event))) {
      report.reproduced++;
      continue;
    }
    report.differed++;
    const masked = inputMasked(event);
    if (masked) report.differed_masked++;
    if (report.examples.length < maxExamples) report.examples.push(example(event, logged, replayed, masked));
  }
  return report;
}

/** Evaluates every event's input on a candidate bundle and compares with what was logged. */
export async function whatIf(
  events: AsyncIterable<DecisionLogEvent>,
  candidate: Bundle,
  options: { examples?: number } = {},
): Promise<WhatIfReport> {
  const evaluator = new Evaluator();
  const maxExamples = options.examples ?? 20;
  const r = {
    candidate_revision: candidate.revision, events: 0, unreplayable: 0,
    transitions: {} as Record<Transition, number>, changed_outcome: 0, changed_other: 0,
    by_reason: {} as WhatIfReport["by_reason"], by_app: {} as WhatIfReport["by_app"],
    prompt_rate: { before: 0, after: 0 }, deny_rate: { before: 0, after: 0 },
    examples: [] as ReplayExample[],
  };
  const prompts = { before: 0, after: 0 };
  const denies = { before: 0, after: 0 };
  for await (const event of events) {
    const input = replayableInput(event);
    if (!input) {
      r.unreplayable++;
      continue;
    }
    r.events++;
    const logged = loggedEvaluation(event);
    const after = await evaluator.evaluate(candidate, input);
    const [from, to] = [outcomeOf(logged), outcomeOf(after)];
    const transition: Transition = `${from}→${to}`;
    r.transitions[transition] = (r.transitions[transition] ?? 0) + 1;
    prompts.before += from === "step_up" ? 1 : 0;
    prompts.after += to === "step_up" ? 1 : 0;
    denies.before += from === "deny" ? 1 : 0;
    denies.after += to === "deny" ? 1 : 0;
    countReasons(r.by_reason, reasonsOf(logged), reasonsOf(after));
    const app = input.target.app;
    const perApp = (r.by_app[app] ??= { decisions: 0, changed: 0, transitions: {} });
    perApp.decisions++;
    if (from !== to) {
      r.changed_outcome++;
      perApp.changed++;
      perApp.transitions[transition] = (perApp.transitions[transition] ?? 0) + 1;
      if (r.examples.length < maxExamples) r.examples.push(example(event, logged, after, inputMasked(event)));
    } else if (!sameEvaluation(logged, alignMasked(after, event))) {
      r.changed_other++;
    }
  }
  const rate = (n: number) => (r.events === 0 ? 0 : n / r.events);
  r.prompt_rate = { before: rate(prompts.before), after: rate(prompts.after) };
  r.deny_rate = { before: rate(denies.before), after: rate(denies.after) };
  return r;
}

function replayableInput(event: DecisionLogEvent): Input | undefined {
  try {
    return parseInput(event.input);
  } catch {
    return undefined;
  }
}

/** What the log says happened: the verdict (`result`), or the error the SDK failed closed on. */
export function loggedEvaluation(event: DecisionLogEvent): Evaluation {
  if (event.result !== undefined) return { verdict: event.result as Verdict };
  return { error: event.error?.code ?? "unknown" };
}

/** The outcome of an evaluation; a failure is the fail-closed deny. */
export function outcomeOf(e: Evaluation): string {
  return "verdict" in e ? String((e.verdict as { outcome?: unknown }).outcome) : "deny";
}

function reasonsOf(e: Evaluation): string[] {
  if (!("verdict" in e)) return ["engine.failure"];
  const reasons = (e.verdict as { reasons?: unknown }).reasons;
  return Array.isArray(reasons) ? [...new Set(reasons.map(String))] : [];
}

function countReasons(into: WhatIfReport["by_reason"], before: string[], after: string[]): void {
  const b = new Set(before);
  const a = new Set(after);
  for (const code of new Set([...before, ...after])) {
    const entry = (into[code] ??= { before: 0, after: 0, gained: 0, lost: 0 });
    if (b.has(code)) entry.before++;
    if (a.has(code)) entry.after++;
    if (a.has(code) && !b.has(code)) entry.gained++;
    if (b.has(code) && !a.has(code)) entry.lost++;
  }
}

/** Equal as the contract means it: reasons, obligations and exceptions are sets. */
export function sameEvaluation(a: Evaluation, b: Evaluation): boolean {
  if ("verdict" in a && "verdict" in b) return isDeepStrictEqual(normalise(a.verdict), normalise(b.verdict));
  if ("error" in a && "error" in b) return a.error === b.error;
  return false;
}

function normalise(verdict: unknown): unknown {
  if (typeof verdict !== "object" || verdict === null) return verdict;
  const v = { ...(verdict as Record<string, unknown>) };
  for (const key of ["reasons", "obligations"]) if (Array.isArray(v[key])) v[key] = [...(v[key] as string[])].sort();
  if (Array.isArray(v.exceptions)) {
    v.exceptions = (v.exceptions as { id: string; relaxed?: string[] }[])
      .map((e) => (Array.isArray(e.relaxed) ? { ...e, relaxed: [...e.relaxed].sort() } : e))
      .sort((x, y) => (x.id < y.id ? -1 : 1));
  }
  return v;
}

/** Applies the log's own masking of the result to a fresh verdict, so masked parts compare equal. */
function alignMasked(fresh: Evaluation, event: DecisionLogEvent): Evaluation {
  if (!("verdict" in fresh) || event.result === undefined) return fresh;
  const paths = (list: string[] | undefined) => (list ?? []).filter((p) => p.startsWith("/result/"));
  const erased = paths(event.erased);
  const masked = paths(event.masked);
  if (erased.length === 0 && masked.length === 0) return fresh;
  const verdict = structuredClone(fresh.verdict) as unknown as Record<string, unknown>;
  for (const p of erased) setAt(verdict, keysOf(p), undefined);
  for (const p of masked) setAt(verdict, keysOf(p), getAt(event.result, keysOf(p)));
  return { verdict: verdict as unknown as Verdict };
}

function keysOf(path: string): string[] {
  return path.split("/").slice(2).map(decodeURIComponent);
}

function getAt(node: unknown, keys: string[]): unknown {
  for (const key of keys) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

function setAt(root: Record<string, unknown>, keys: string[], value: unknown): void {
  let node: unknown = root;
  for (const key of keys.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[key];
  if (typeof node !== "object" || node === null) return;
  const last = keys[keys.length - 1] as string;
  if (Array.isArray(node)) {
    if (value === undefined) node.splice(Number(last), 1);
    else node[Number(last)] = value;
  } else if (value === undefined) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

function inputMasked(event: DecisionLogEvent): boolean {
  return [...(event.erased ?? []), ...(event.masked ?? [])].some((p) => p === "/input" || p.startsWith("/input/"));
}

function example(event: DecisionLogEvent, logged: Evaluation, replayed: Evaluation, masked: boolean): ReplayExample {
  const app = (event.input as { target?: { app?: unknown } } | undefined)?.target?.app;
  const describe = (e: Evaluation) =>
    "verdict" in e ? `${outcomeOf(e)} [${reasonsOf(e).sort().join(", ")}]` : `failure ${e.error}`;
  return {
    decision_id: event.decision_id,
    revision: eventRevision(event),
    app: typeof app === "string" ? app : undefined,
    logged: describe(logged),
    replayed: describe(replayed),
    input_masked: masked,
  };
}

/** Bundles at hand, by revision, in front of an optional store. */
export class RevisionIndex implements RevisionSource {
  constructor(
    private readonly bundles: ReadonlyMap<string, Bundle>,
    private readonly fallback?: RevisionSource,
    private readonly storeName = "(no store)",
  ) {}

  async get(revision: string): Promise<Bundle> {
    const bundle = this.bundles.get(revision);
    if (bundle) return bundle;
    if (this.fallback) return this.fallback.get(revision);
    throw new RevisionNotFoundError(revision, this.storeName);
  }
}
