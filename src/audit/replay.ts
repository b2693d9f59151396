/**
 * Replaying logged decisions. `verify` re-evaluates each event's input on the bundle of the
 * revision it names (from the bundle store) and checks the verdict comes out as logged. `whatIf`
 * evaluates the same inputs on a candidate bundle and reports what would change: outcome
 * transitions, reasons gained and lost, per app, and the prompt rate before and after. Both stream
 * the log, keeping counts and a few examples, so months of logs fit in memory.
 */
import type { Verdict } from "../contracts/decision.js";
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import type { Input } from "../contracts/input.js";
import type { Bundle } from "../bundle/load.js";
import { parseVerdict } from "../decision/verdict.js";
import type { Engine } from "../engine/engine.js";
import { WasmEngine } from "../engine/inprocess/wasm.js";
import { isStepupError, RevisionNotFoundError } from "../errors.js";
import { parseInput } from "../input/validate.js";
import { describeSummary, isEdgeEvent, loggedSummary, sameSummary, summaryOf, type EdgeMapper, type EdgeMapping } from "./edge-replay.js";
import { maskedReads, policyReads, type PolicyRead } from "./policy-reads.js";
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

/** A decision whose logged input was masked at a path the policy reads: not replayable. */
export interface MaskedExample {
  readonly decision_id: string;
  readonly paths: readonly string[];
}

/** Decisions not replayable because of masking: how many, by masked path, and a few of them. */
export interface MaskedCounts {
  readonly masked: number;
  readonly masked_paths: Record<string, number>;
  readonly masked_examples: MaskedExample[];
}

export interface VerifyReport extends MaskedCounts {
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

export interface WhatIfReport extends MaskedCounts {
  readonly candidate_revision: string;
  /** Decisions evaluated on the candidate (neither masked nor unreplayable). */
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

/** What replaying one event found, for `verify`: computed in-process or by a replay thread. */
export type VerifyFinding =
  | { readonly kind: "unreplayable" | "missing" | "reproduced"; readonly revision: string }
  | { readonly kind: "masked"; readonly revision: string; readonly decision_id: string; readonly paths: readonly string[] }
  | { readonly kind: "differed"; readonly revision: string; readonly masked: boolean; readonly example: ReplayExample };

/** What evaluating one event on the candidate found, for `whatIf`. */
export type WhatIfFinding =
  | { readonly kind: "unreplayable" }
  | { readonly kind: "masked"; readonly decision_id: string; readonly paths: readonly string[] }
  | {
      readonly kind: "evaluated";
      readonly app: string;
      readonly from: string;
      readonly to: string;
      readonly reasons: { readonly before: string[]; readonly after: string[] };
      /** Same outcome, and the rest of the verdict as logged too. */
      readonly same: boolean;
      /** For a changed outcome. */
      readonly example?: ReplayExample;
    };

/** The verdict an engine gives for an input, or the code of the error the SDK would fail closed on. */
export function evaluateOn(engine: Engine, input: Input): Evaluation {
  try {
    return { verdict: parseVerdict(engine.evaluate(input)) };
  } catch (err) {
    if (isStepupError(err)) return { error: err.code };
    throw err;
  }
}

/** The `/input` paths the log masked or erased in an event. */
export function inputMaskPaths(event: DecisionLogEvent): string[] {
  return [...(event.erased ?? []), ...(event.masked ?? [])].filter((p) => p === "/input" || p.startsWith("/input/"));
}

/**
 * The event's masked paths that hide something the policy reads. An upsert creates the objects
 * on its way (OPA's semantics), so an object of the logged input that holds nothing but masked
 * values may be the mask's own: it counts as masked too (a device that was null and now holds
 * only a redacted id reads as a device).
 */
function hiddenPaths(event: DecisionLogEvent, reads: readonly PolicyRead[]): string[] {
  const paths = inputMaskPaths(event);
  if (paths.length === 0) return [];
  const keysOf = (p: string) => p.split("/").slice(2).map(decodeURIComponent);
  const masked = paths.map(keysOf);
  return paths.filter((path) => {
    if (maskedReads([path], reads).length > 0) return true;
    if (!(event.masked ?? []).includes(path)) return false;
    const keys = keysOf(path);
    let node: unknown = event.input;
    for (let depth = 0; depth < keys.length - 1; depth++) {
      node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[keys[depth]!] : undefined;
      if (typeof node !== "object" || node === null || Array.isArray(node)) return false;
      const prefix = keys.slice(0, depth + 1);
      const onlyMasked = Object.keys(node).every((k) => masked.some((m) => m.length > prefix.length && prefix.every((p, i) => m[i] === p) && m[prefix.length] === k));
      if (onlyMasked && maskedReads([`/input/${prefix.map(encodeURIComponent).join("/")}`], reads).length > 0) return true;
    }
    return false;
  });
}

/**
 * Replays one event on the engine of the revision it names (undefined: the store lacks it),
 * whose policy reads `reads`: an event masked at one of them is not replayable.
 */
export function verifyEvent(event: DecisionLogEvent, input: Input | undefined, engine: Engine | undefined, reads: readonly PolicyRead[] = []): VerifyFinding {
  const revision = eventRevision(event) ?? "";
  const hidden = engine ? hiddenPaths(event, reads) : [];
  if (hidden.length > 0) return { kind: "masked", revision, decision_id: event.decision_id, paths: hidden };
  if (!input) return { kind: "unreplayable", revision };
  if (!engine) return { kind: "missing", revision };
  const replayed = evaluateOn(engine, input);
  const logged = loggedEvaluation(event);
  if (sameEvaluation(logged, alignMasked(replayed, event))) return { kind: "reproduced", revision };
  const masked = inputMasked(event);
  return { kind: "differed", revision, masked, example: example(event, logged, replayed, masked) };
}

/**
 * Evaluates one event's input on the candidate, whose policy reads `reads`, and compares with
 * what was logged. An event masked at a path the candidate reads is not replayable: what comes
 * out would be an artefact of the mask, never a transition.
 */
export function whatIfEvent(event: DecisionLogEvent, input: Input | undefined, candidate: Engine, reads: readonly PolicyRead[] = []): WhatIfFinding {
  const hidden = hiddenPaths(event, reads);
  if (hidden.length > 0) return { kind: "masked", decision_id: event.decision_id, paths: hidden };
  if (!input) return { kind: "unreplayable" };
  const logged = loggedEvaluation(event);
  const after = evaluateOn(candidate, input);
  const [from, to] = [outcomeOf(logged), outcomeOf(after)];
  const reasons = { before: reasonsOf(logged), after: reasonsOf(after) };
  const app = input.target.app;
  if (from !== to) return { kind: "evaluated", app, from, to, reasons, same: false, example: example(event, logged, after, inputMasked(event)) };
  return { kind: "evaluated", app, from, to, reasons, same: sameEvaluation(logged, alignMasked(after, event)) };
}

/** Counts verify findings, in log order, into a report. */
export class VerifyTally {
  private readonly r = {
    events: 0, reproduced: 0, differed: 0, differed_masked: 0, unreplayable: 0,
    masked: 0, masked_paths: dataKeyed<number>(), masked_examples: [] as MaskedExample[],
    missing_revisions: dataKeyed<number>(), revisions: dataKeyed<number>(),
    examples: [] as ReplayExample[],
  };

  constructor(private readonly maxExamples = 20) {}

  add(f: VerifyFinding): void {
    const r = this.r;
    r.events++;
    r.revisions[f.revision] = (r.revisions[f.revision] ?? 0) + 1;
    if (f.kind === "masked") countMasked(r, f, this.maxExamples);
    else if (f.kind === "unreplayable") r.unreplayable++;
    else if (f.kind === "missing") r.missing_revisions[f.revision] = (r.missing_revisions[f.revision] ?? 0) + 1;
    else if (f.kind === "reproduced") r.reproduced++;
    else if (f.kind === "differed") {
      r.differed++;
      if (f.masked) r.differed_masked++;
      if (r.examples.length < this.maxExamples) r.examples.push(f.example);
    }
  }

  report(): VerifyReport {
    return this.r;
  }
}

/** Counts what-if findings, in log order, into a report. */
export class WhatIfTally {
  private readonly r = {
    events: 0, unreplayable: 0,
    masked: 0, masked_paths: dataKeyed<number>(), masked_examples: [] as MaskedExample[],
    transitions: dataKeyed<number>() as Record<Transition, number>, changed_outcome: 0, changed_other: 0,
    by_reason: dataKeyed() as WhatIfReport["by_reason"], by_app: dataKeyed() as WhatIfReport["by_app"],
    examples: [] as ReplayExample[],
  };
  private readonly prompts = { before: 0, after: 0 };
  private readonly denies = { before: 0, after: 0 };

  constructor(private readonly candidateRevision: string, private readonly maxExamples = 20) {}

  add(f: WhatIfFinding): void {
    const r = this.r;
    if (f.kind === "masked") {
      countMasked(r, f, this.maxExamples);
      return;
    }
    if (f.kind === "unreplayable") {
      r.unreplayable++;
      return;
    }
    r.events++;
    const { from, to } = f;
    const transition: Transition = `${from}→${to}`;
    r.transitions[transition] = (r.transitions[transition] ?? 0) + 1;
    this.prompts.before += from === "step_up" ? 1 : 0;
    this.prompts.after += to === "step_up" ? 1 : 0;
    this.denies.before += from === "deny" ? 1 : 0;
    this.denies.after += to === "deny" ? 1 : 0;
    countReasons(r.by_reason, f.reasons.before, f.reasons.after);
    const perApp = (r.by_app[f.app] ??= { decisions: 0, changed: 0, transitions: dataKeyed<number>() as Record<Transition, number> });
    perApp.decisions++;
    if (from !== to) {
      r.changed_outcome++;
      perApp.changed++;
      perApp.transitions[transition] = (perApp.transitions[transition] ?? 0) + 1;
      if (f.example && r.examples.length < this.maxExamples) r.examples.push(f.example);
    } else if (!f.same) {
      r.changed_other++;
    }
  }

  report(): WhatIfReport {
    const { examples, ...counts } = this.r;
    const rate = (n: number) => (counts.events === 0 ? 0 : n / counts.events);
    return {
      candidate_revision: this.candidateRevision,
      ...counts,
      prompt_rate: { before: rate(this.prompts.before), after: rate(this.prompts.after) },
      deny_rate: { before: rate(this.denies.before), after: rate(this.denies.after) },
      examples,
    };
  }
}

function countMasked(
  r: { masked: number; masked_paths: Record<string, number>; masked_examples: MaskedExample[] },
  f: { decision_id: string; paths: readonly string[] },
  maxExamples: number,
): void {
  r.masked++;
  for (const path of f.paths) r.masked_paths[path] = (r.masked_paths[path] ?? 0) + 1;
  if (r.masked_examples.length < maxExamples) r.masked_examples.push({ decision_id: f.decision_id, paths: f.paths });
}

/** A revision's bundle, its compiled engine, and the input paths its policy reads. */
export interface LoadedRevision {
  readonly bundle: Bundle;
  readonly engine: WasmEngine;
  readonly reads: readonly PolicyRead[];
}

/**
 * The bundles of the revisions a log names, each compiled once; undefined for a revision the
 * source lacks, asked for once however many events name it.
 */
export class RevisionEngines {
  private readonly loaded = new Map<string, Promise<LoadedRevision | undefined>>();

  constructor(private readonly source: RevisionSource) {}

  get(revision: string): Promise<LoadedRevision | undefined> {
    let loaded = this.loaded.get(revision);
    if (!loaded) {
      loaded = this.load(revision);
      this.loaded.set(revision, loaded);
    }
    return loaded;
  }

  private async load(revision: string): Promise<LoadedRevision | undefined> {
    let bundle: Bundle;
    try {
      bundle = await this.source.get(revision);
    } catch (err) {
      if (err instanceof RevisionNotFoundError) return undefined;
      throw err;
    }
    return { bundle, engine: await WasmEngine.load(bundle), reads: policyReads(bundle.files) };
  }
}

/** Re-evaluates every event on its own revision and counts what reproduces. */
export async function verify(
  events: AsyncIterable<DecisionLogEvent>,
  source: RevisionSource,
  options: { examples?: number; edge?: EdgeMapper } = {},
): Promise<VerifyReport> {
  const tally = new VerifyTally(options.examples);
  for await (const finding of verifyFindings(events, new RevisionEngines(source), options.edge)) tally.add(finding);
  return tally.report();
}

/** What verifying each event finds, in order, with the revisions' engines from `engines`. */
export async function* verifyFindings(
  events: Iterable<DecisionLogEvent> | AsyncIterable<DecisionLogEvent>,
  engines: RevisionEngines,
  edge?: EdgeMapper,
): AsyncGenerator<VerifyFinding> {
  for await (const event of events) {
    if (isEdgeEvent(event)) {
      const revision = eventRevision(event) ?? "";
      if (!edge) {
        yield { kind: "unreplayable", revision };
        continue;
      }
      const mapped = await edge.map(event);
      yield verifyEdgeEvent(event, mapped, (await engines.get(revision))?.engine);
      continue;
    }
    const input = replayableInput(event);
    // Only a replayable or masked event asks for its revision: an unreplayable one needs no bundle.
    const loaded = input || inputMaskPaths(event).length > 0 ? await engines.get(eventRevision(event) ?? "") : undefined;
    yield verifyEvent(event, input, loaded?.engine, loaded?.reads);
  }
}

/** Evaluates every event's input on a candidate bundle and compares with what was logged. */
export async function whatIf(
  events: AsyncIterable<DecisionLogEvent>,
  candidate: Bundle,
  options: { examples?: number; edge?: EdgeMapper } = {},
): Promise<WhatIfReport> {
  const engine = await WasmEngine.load(candidate);
  const tally = new WhatIfTally(candidate.revision, options.examples);
  for await (const finding of whatIfFindings(events, engine, policyReads(candidate.files), options.edge)) tally.add(finding);
  return tally.report();
}

/** What evaluating each event on the candidate's engine finds, in order. */
export async function* whatIfFindings(
  events: Iterable<DecisionLogEvent> | AsyncIterable<DecisionLogEvent>,
  engine: WasmEngine,
  reads: readonly PolicyRead[],
  edge?: EdgeMapper,
): AsyncGenerator<WhatIfFinding> {
  for await (const event of events) {
    if (isEdgeEvent(event)) {
      yield edge ? whatIfEdgeEvent(event, await edge.map(event), engine) : { kind: "unreplayable" };
      continue;
    }
    yield whatIfEvent(event, replayableInput(event), engine, reads);
  }
}

/** Replays one of opa-envoy-plugin's decisions, mapped through the edge, on its revision's engine. */
export function verifyEdgeEvent(event: DecisionLogEvent, mapped: EdgeMapping, engine: Engine | undefined): VerifyFinding {
  const revision = eventRevision(event) ?? "";
  const logged = loggedSummary(event);
  if (!logged) return { kind: "unreplayable", revision };
  if (!engine) return { kind: "missing", revision };
  const replayed = summaryOf("input" in mapped ? evaluateOn(engine, mapped.input) : mapped);
  if (sameSummary(logged, replayed)) return { kind: "reproduced", revision };
  const app = "input" in mapped ? mapped.input.target.app : undefined;
  return {
    kind: "differed",
    revision,
    masked: false,
    example: { decision_id: event.decision_id, revision, app, logged: describeSummary(logged), replayed: describeSummary(replayed), input_masked: false },
  };
}

/** One of opa-envoy-plugin's decisions, mapped through the edge, evaluated on a candidate. */
export function whatIfEdgeEvent(event: DecisionLogEvent, mapped: EdgeMapping, candidate: Engine): WhatIfFinding {
  const logged = loggedSummary(event);
  if (!logged || !("input" in mapped)) return { kind: "unreplayable" };
  const after = summaryOf(evaluateOn(candidate, mapped.input));
  const [from, to] = [logged.outcome, after.outcome];
  const reasons = { before: [...(logged.reasons ?? [])], after: [...(after.reasons ?? [])] };
  const app = mapped.input.target.app;
  const revision = eventRevision(event);
  const example = { decision_id: event.decision_id, revision, app, logged: describeSummary(logged), replayed: describeSummary(after), input_masked: false };
  return { kind: "evaluated", app, from, to, reasons, same: sameSummary(logged, after), ...(from !== to ? { example } : {}) };
}

/** The event's input, if it still meets the input contract. */
export function replayableInput(event: DecisionLogEvent): Input | undefined {
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
  if ("verdict" in a && "verdict" in b) return sameJson(normalise(a.verdict), normalise(b.verdict));
  if ("error" in a && "error" in b) return a.error === b.error;
  return false;
}

/**
 * Deep equality of JSON values (parsed documents: plain objects, arrays, primitives), as
 * `isDeepStrictEqual` judges them but without its generality, which cost replay ~7 µs a verdict.
 * @internal
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return !(a === 0 && !Object.is(a, b));
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
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

/**
 * Counts keyed by what a log names (apps, reasons, revisions): an object without a prototype, so
 * that an app called `__proto__` or `constructor` is a key like any other.
 */
function dataKeyed<T = never>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

// Paths come from the log (its erased and masked lists): only the document's own properties are
// walked or written, never a prototype's (`/result/__proto__/…`).
function own(node: unknown, key: string): unknown {
  return typeof node === "object" && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function getAt(node: unknown, keys: string[]): unknown {
  for (const key of keys) node = own(node, key);
  return node;
}

function setAt(root: Record<string, unknown>, keys: string[], value: unknown): void {
  let node: unknown = root;
  for (const key of keys.slice(0, -1)) node = own(node, key);
  if (typeof node !== "object" || node === null) return;
  const last = keys[keys.length - 1] as string;
  if (Array.isArray(node)) {
    if (value === undefined) node.splice(Number(last), 1);
    else node[Number(last)] = value;
  } else if (value === undefined) delete (node as Record<string, unknown>)[last];
  else Object.defineProperty(node, last, { value, writable: true, enumerable: true, configurable: true });
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
