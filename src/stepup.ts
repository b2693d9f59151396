/**
 * The SDK's front door: load a bundle, then decide. `decide` validates the input, evaluates it
 * in-process on the bundle's wasm, validates the policy's verdict and renders the decision.
 * Beside the active revision it can hold a candidate in report-only (shadow) mode: decided on the
 * same inputs off the request's path, recorded in the decision event, never enforced; `promote`
 * and `rollback` switch between them in one synchronous call.
 */
import { randomUUID } from "node:crypto";
import type { Span } from "@opentelemetry/api";
import type { Decision, Verdict } from "./contracts/decision.js";
import type { RolloutRecord } from "./contracts/decision-log.js";
import type { Input, InputDraft } from "./contracts/input.js";
import { loadBundle, type Bundle, type LoadOptions } from "./bundle/load.js";
import type { VerificationConfig } from "./contracts/signing.js";
import type { BundleVerifier } from "./bundle/verify.js";
import { asStepupError, conclude, logFailure, type ConcludeContext, type ConcludeHooks, type DecisionEvent } from "./decision/conclude.js";
import { decideDocument } from "./engine/decide.js";
import { parseVerdict } from "./decision/verdict.js";
import type { Engine, EngineInfo } from "./engine/engine.js";
import { Answers, answerBuffer, atIndex, decideLines, KeptBuffer, LineFailure, type LinesOptions } from "./engine/batch/ndjson.js";
import { DecisionPool, type PoolOptions } from "./engine/batch/pool.js";
import { ShadowQueue, type Revision, type ShadowOptions } from "./engine/shadow.js";
import { failed, inSpan, inSpanAsync, SPAN, traceIdsOf } from "./tracing.js";
import { logEngineEvent, type EngineEvent } from "./engine/inprocess/fallbacks.js";
import { WasmEngine, type EngineOptions } from "./engine/inprocess/wasm.js";
import { RolloutInvalidError, type StepupErrors } from "./errors.js";
import { defaultBundlePath } from "./paths.js";

/**
 * A document whose static type says nothing (`unknown`, `any`): `decide` checks it at run time.
 * Any other type is refused at compile time unless it is an `InputDraft` (the other overload).
 */
export type Unchecked<Document> = unknown extends Document ? Document : never;

export interface StepupOptions {
  /**
   * Called when the policy could not decide; the decision returned is then the fail-closed one.
   * By default a line of JSON goes to stderr, naming the error and the target, never the input.
   */
  readonly onError?: (error: StepupErrors, input: Input, decisionId: string) => void;
  /**
   * Called after every decision, the fail-closed ones included (decision logs, metrics). While a
   * candidate is held, it is called once the candidate has decided too, with `event.shadow`.
   */
  readonly onDecision?: (event: DecisionEvent) => void;
  /** Decision ids; random UUIDs by default. */
  readonly newId?: () => string;
  /**
   * Told of every switch of revisions in a report-only rollout (a candidate set, cleared or
   * failed to load; a promotion; a rollback); by default a JSON line on stderr. Give it the
   * decision logger's `onRollout` to have promotions in the decision log.
   */
  readonly onRollout?: (record: RolloutRecord) => void;
  /** How the candidate's evaluations are queued off the request's path. */
  readonly shadow?: ShadowOptions;
  /**
   * The in-process engine's fast paths, for the engines `load`, `create` and `activate` compile
   * (default true). False evaluates OPA's stock way — the input as JSON text for OPA to parse, the
   * bundle's entrypoint, `opa_eval`'s JSON result — on the same module: the same decisions,
   * slower; for ruling the fast paths out. `engineInfo` says what is in use.
   */
  readonly fastPaths?: boolean;
  /**
   * Called once for each fallback the engine takes where a fast path does not hold (a value writer
   * the module's parser does not agree with, say); the decisions stay the same. By default a line
   * of JSON goes to stderr. Count them with `StepupMetrics.engineEvent`.
   */
  readonly onEngineEvent?: (event: EngineEvent) => void;
  /**
   * The most a bundle's policy module may take to start and evaluate probe inputs when it is
   * loaded or activated (5,000 ms by default): a module that does not finish, one that loops, is
   * refused (`ERR_BUNDLE_INVALID`) instead of hanging the thread.
   */
  readonly loadBudgetMs?: number;
}

/** Options of `Stepup.load`: the decision hooks, and how to check the bundle file. */
export interface StepupLoadOptions extends StepupOptions {
  /** Verify the bundle's signature (OPA's format) before using it; unsigned bundles are then refused. */
  readonly verification?: VerificationConfig;
  readonly limits?: LoadOptions["limits"];
}

/** Who asked for a promotion or a rollback, for its record. */
export interface RolloutOptions {
  readonly by?: string;
}

export class Stepup {
  private active: Revision;
  /** The candidate of a report-only rollout, decided beside the active revision, never enforced. */
  private shadowing: Revision | undefined;
  /** The revision active before the last switch, for `rollback`. */
  private previous: Revision | undefined;
  private readonly hooks: ConcludeHooks;
  /** While a candidate is held: the hooks that queue each decision's event for the candidate. */
  private readonly shadowHooks: ConcludeHooks | undefined;
  /** The same, for decisions the caller failed closed: the candidate fails the same way. */
  private readonly failureHooks: ConcludeHooks | undefined;
  private readonly queue: ShadowQueue | undefined;
  private readonly onRollout: (record: RolloutRecord) => void;
  private readonly newId: () => string;
  private readonly spareAnswers = new KeptBuffer<Buffer>();
  private readonly engineOptions: EngineOptions;

  constructor(bundle: Bundle, engine: Engine, options: StepupOptions = {}) {
    this.active = { bundle, engine };
    const onError = options.onError ?? logFailure;
    this.hooks = { onError, onDecision: options.onDecision };
    this.newId = options.newId ?? randomUUID;
    this.onRollout = options.onRollout ?? logRollout;
    // Without a listener nobody would see the candidate's outcome: it is not evaluated at all.
    if (options.onDecision) {
      const queue = (this.queue = new ShadowQueue(options.onDecision, options.shadow));
      this.shadowHooks = { onError, onDecision: (event) => queue.add(event, this.shadowing as Revision, false) };
      this.failureHooks = { onError, onDecision: (event) => queue.add(event, this.shadowing as Revision, true) };
    }
    this.engineOptions = engineOptions(options);
  }

  /**
   * Loads a bundle (a .tar.gz or a directory) and compiles its policy.
   * @example
   * const stepup = await Stepup.load("bundles/stepup.tar.gz");
   * const decision = stepup.decide(input);
   */
  static async load(path: string, options: StepupLoadOptions = {}): Promise<Stepup> {
    const verifier = await verifierFor(options.verification);
    const bundle = await loadBundle(path, { verifier, limits: options.limits });
    return Stepup.create(bundle, options);
  }

  /**
   * Loads the bundle shipped with the package (or the one `$STEPUP_BUNDLE` names): the policy as
   * released with this version of stepup.
   * @example
   * const stepup = await Stepup.loadDefault();
   */
  static async loadDefault(options: StepupLoadOptions = {}): Promise<Stepup> {
    return Stepup.load(defaultBundlePath(), options);
  }

  /** Compiles a bundle already loaded (and verified) and decides with it. */
  static async create(bundle: Bundle, options: StepupOptions = {}): Promise<Stepup> {
    const engine = await compile(bundle, "active", engineOptions(options));
    return new Stepup(bundle, engine, options);
  }

  /** The bundle that makes decisions now. */
  get bundle(): Bundle {
    return this.active.bundle;
  }

  /** The revision of the bundle that makes decisions now. */
  get revision(): string {
    return this.active.bundle.revision;
  }

  /**
   * What the active engine runs and how: the OPA that compiled the module, the rewrites of OPA's
   * runtime in it, whether the fast paths are on, how inputs reach the policy and results come
   * back, and the fallbacks taken. Undefined for an engine that does not say.
   */
  get engineInfo(): EngineInfo | undefined {
    return this.active.engine.info;
  }

  /**
   * Compiles a new bundle and makes it the active one. Decisions are synchronous, so none is
   * ever split between two revisions; if compiling fails, the current bundle stays active. The
   * candidate's revision is promoted instead (its compiled engine reused), and the revision that
   * was active before the last switch is rolled back to: how a bundle client following both
   * channels of a report-only rollout sees a promotion or a rollback made on the server.
   */
  async activate(bundle: Bundle): Promise<void> {
    if (this.shadowing?.bundle.revision === bundle.revision) {
      this.promote();
      return;
    }
    if (this.previous?.bundle.revision === bundle.revision && this.previous.bundle.revision !== this.active.bundle.revision) {
      this.rollback();
      return;
    }
    const engine = await compile(bundle, "active", this.engineOptions);
    this.previous = this.active;
    this.active = { bundle, engine };
  }

  /** The candidate revision's bundle, while one is held in report-only mode. */
  get candidate(): Bundle | undefined {
    return this.shadowing?.bundle;
  }

  /**
   * Compiles a bundle and holds it as the candidate of a report-only rollout: every decision is
   * then also made on it, off the request's path, and the event given to `onDecision` carries its
   * outcome (`event.shadow`); it never changes what is enforced. A bundle that fails to compile
   * rejects with its typed error and is reported (`candidate_failed`); the active revision and
   * any candidate already held stay as they were. The active revision itself is not held (there
   * would be nothing to compare): it ends report-only mode instead.
   * @example
   * await stepup.setCandidate(await loadBundle("candidate.tar.gz"));
   * // … compare in the decision logs (stepup review), then:
   * stepup.promote({ by: "alice" });
   */
  async setCandidate(bundle: Bundle): Promise<void> {
    if (this.shadowing?.bundle.revision === bundle.revision) return;
    // The active revision as its own candidate would compare nothing: not held.
    if (bundle.revision === this.active.bundle.revision) return this.clearCandidate();
    let engine: Engine;
    try {
      engine = await compile(bundle, "candidate", this.engineOptions);
    } catch (err) {
      const error = asStepupError(err);
      this.rollout("candidate_failed", { error });
      throw error;
    }
    this.queue?.flush();
    this.shadowing = { bundle, engine };
    this.rollout("candidate_set");
  }

  /** Loads (and verifies, with `verification`) a bundle file and holds it as the candidate; see `setCandidate`. */
  async loadCandidate(path: string, options: Pick<StepupLoadOptions, "verification" | "limits"> = {}): Promise<void> {
    let bundle: Bundle;
    try {
      const verifier = await verifierFor(options.verification);
      bundle = await loadBundle(path, { verifier, limits: options.limits });
    } catch (err) {
      const error = asStepupError(err);
      this.rollout("candidate_failed", { error });
      throw error;
    }
    await this.setCandidate(bundle);
  }

  /** Ends report-only mode: decisions are made on the active revision alone. */
  clearCandidate(): void {
    if (!this.shadowing) return;
    this.queue?.flush();
    this.shadowing = undefined;
    this.rollout("candidate_cleared");
  }

  /**
   * Makes the candidate the active revision, at once: the next decision is made on it, none is
   * split between the two. The revision it replaces is kept for `rollback`. Returns the record of
   * the promotion, which is also given to `onRollout`. Throws `RolloutInvalidError` when no
   * candidate is held.
   */
  promote(options: RolloutOptions = {}): RolloutRecord {
    const candidate = this.shadowing;
    if (!candidate) throw new RolloutInvalidError("promote", "no candidate revision is held");
    this.queue?.flush();
    this.previous = this.active;
    this.active = candidate;
    this.shadowing = undefined;
    return this.rollout("promoted", { by: options.by, previous: this.previous.bundle.revision });
  }

  /**
   * Makes the revision that was active before the last switch active again, at once; the one it
   * replaces goes back to being the candidate, still decided in report-only mode. Throws
   * `RolloutInvalidError` when there was no earlier revision.
   */
  rollback(options: RolloutOptions = {}): RolloutRecord {
    const previous = this.previous;
    if (!previous) throw new RolloutInvalidError("roll back", "no earlier revision is held");
    this.queue?.flush();
    const demoted = this.active;
    this.active = previous;
    this.previous = undefined;
    this.shadowing = demoted;
    return this.rollout("rolled_back", { by: options.by, previous: demoted.bundle.revision });
  }

  /** Resolves once the candidate has decided on every decision made so far and each was announced. */
  settled(): Promise<void> {
    return this.queue?.settled() ?? Promise.resolve();
  }

  /**
   * Decides on an input document. Throws `InputInvalidError` naming the field when the input
   * breaks the contract (a string that is not Unicode text included); a failure inside the policy
   * yields the fail-closed decision instead. The document is read once, so what is evaluated is
   * what the decision and its log show, whatever getters it has.
   *
   * Typed callers pass an `InputDraft` (an `Input` before defaults) and the compiler checks it; a document whose type is `unknown`
   * or `any` (parsed JSON, a request body) is accepted as it is and checked when it is decided.
   */
  decide(input: InputDraft): Decision;
  decide<Document>(document: Unchecked<Document>): Decision;
  decide(raw: unknown): Decision {
    return this.decideDocument(raw, false);
  }

  /** `decide`; a `parsed` document (from JSON) is data already, so it is not copied first. */
  private decideDocument(raw: unknown, parsed: boolean): Decision {
    return inSpan(SPAN.decide, undefined, (span) => {
      const { bundle, engine } = this.active;
      return annotate(span, decideDocument(engine, raw, this.context(bundle, span), this.hooksNow(false), parsed));
    });
  }

  /**
   * Decides newline-delimited JSON input documents on this thread (blank lines skipped) and
   * answers with one decision per document as NDJSON, in order: what the decision pool does on
   * every core, for batches too small to pay for threads. Text in, text out; bytes in, bytes out
   * (written into a buffer kept between calls, then copied out — into the memory of earlier
   * answers with `into`). Throws at the first line that is not JSON or that breaks the contract,
   * naming it: `[12].now` in issue paths (0-based).
   */
  decideLines(ndjson: string): string;
  decideLines(ndjson: Uint8Array, options?: LinesOptions): Buffer;
  decideLines(ndjson: string | Uint8Array, options?: LinesOptions): string | Buffer;
  decideLines(ndjson: string | Uint8Array, options: LinesOptions = {}): string | Buffer {
    const bytes = typeof ndjson === "string" ? Buffer.from(ndjson) : Buffer.from(ndjson.buffer, ndjson.byteOffset, ndjson.byteLength);
    // The last call's buffer, warm; a call from inside a decision hook takes a fresh one.
    const answers = new Answers(this.spareAnswers.take());
    try {
      decideLines((raw) => this.decideDocument(raw, true), bytes, 0, bytes.length, answers);
      if (typeof ndjson === "string") return answers.bytes.toString("utf8");
      const out = answerBuffer(answers.used, options.into, false);
      out.set(answers.bytes);
      return out;
    } catch (err) {
      throw err instanceof LineFailure ? atIndex(err.error, err.line) : err;
    } finally {
      this.spareAnswers.give(answers.buffer);
    }
  }

  /** Decides on an input that has already been validated with `parseInput`. */
  decideInput(input: Input): Decision {
    return inSpan(SPAN.decide, undefined, (span) => {
      const { bundle, engine } = this.active;
      return annotate(span, conclude(input, this.context(bundle, span), this.hooksNow(false), () => engine.evaluate(input)));
    });
  }

  /**
   * The fail-closed deny for an input the caller could not complete or must not decide on (a
   * signal source failed on a sensitive target). It names the error and is reported through
   * `onError` and `onDecision` like any other failure to decide.
   */
  failClosed(input: Input, error: StepupErrors): Decision {
    return inSpan(SPAN.decide, undefined, (span) => {
      const decision = conclude(input, this.context(this.active.bundle, span), this.hooksNow(true), () => {
        throw error;
      });
      return annotate(span, decision);
    });
  }

  /**
   * Starts worker threads that decide with the active bundle, for batch work: replaying decision
   * logs, simulating a tuning change over a corpus. Each thread decides exactly as `decide` does;
   * they share the module compiled for this instance. Close the pool when done.
   * @example
   * const pool = await stepup.pool({ size: 2 });
   * const decisions = await pool.decideMany(inputs);
   * await pool.close();
   */
  async pool(options?: PoolOptions): Promise<DecisionPool> {
    const { bundle, engine } = this.active;
    const module = engine instanceof WasmEngine ? engine.module : await WebAssembly.compile(bundle.wasm);
    return DecisionPool.start(bundle, module, { ...options, fastPaths: options?.fastPaths ?? this.engineOptions.fastPaths });
  }

  /** The policy's raw verdict for a validated input, without rendering. */
  evaluate(input: Input): Verdict {
    return parseVerdict(this.active.engine.evaluate(input));
  }

  private context(bundle: Bundle, span: Span): ConcludeContext {
    const trace = traceIdsOf(span);
    const ctx = { decisionId: this.newId(), revision: bundle.revision, codes: bundle.metadata.codes };
    return trace ? { ...ctx, trace } : ctx;
  }

  private hooksNow(callerFailed: boolean): ConcludeHooks {
    if (!this.shadowing || !this.shadowHooks || !this.failureHooks) return this.hooks;
    return callerFailed ? this.failureHooks : this.shadowHooks;
  }

  private rollout(action: RolloutRecord["action"], extra: { by?: string; previous?: string; error?: StepupErrors } = {}): RolloutRecord {
    const record: RolloutRecord = {
      level: action === "candidate_failed" ? "error" : "info",
      msg: "stepup rollout",
      action,
      timestamp: new Date().toISOString(),
      active: this.active.bundle.revision,
      ...(extra.previous !== undefined && { previous: extra.previous }),
      ...(this.shadowing && { candidate: this.shadowing.bundle.revision }),
      ...(extra.by !== undefined && { by: extra.by }),
      ...(extra.error && { error: { code: extra.error.code, message: extra.error.message } }),
    };
    try {
      this.onRollout(record);
    } catch {
      // A listener's failure must not undo or fail the switch.
    }
    return record;
  }
}

/** Compiles a bundle's policy in a span of its own (`stepup.bundle.activate`). */
function compile(bundle: Bundle, channel: "active" | "candidate", options: EngineOptions): Promise<Engine> {
  return inSpanAsync(SPAN.activate, { "stepup.revision": bundle.revision, "stepup.channel": channel }, () => WasmEngine.load(bundle, options));
}

/** Names the decision on its span, when the span records. */
function annotate(span: Span, decision: Decision): Decision {
  if (span.isRecording()) {
    span.setAttributes({
      "stepup.decision_id": decision.decision_id,
      "stepup.outcome": decision.outcome,
      "stepup.tier": decision.target.tier,
      "stepup.app": decision.target.app,
      "stepup.action": decision.target.action,
      "stepup.revision": decision.policy.revision,
    });
    if (decision.error) failed(span, decision.error);
  }
  return decision;
}

/** The default `onRollout`: one JSON line on stderr. */
export function logRollout(record: RolloutRecord): void {
  process.stderr.write(`${JSON.stringify(record)}\n`);
}

/** The options of the engines a Stepup compiles. */
function engineOptions(options: StepupOptions): EngineOptions {
  return { fastPaths: options.fastPaths ?? true, onEvent: options.onEngineEvent ?? logEngineEvent, budgetMs: options.loadBudgetMs };
}

/**
 * The verifier of a verification config, when there is one. Signature verification (keys, file
 * digests, JSON's normal form) is loaded only by a load that asks for it.
 */
async function verifierFor(config: VerificationConfig | undefined): Promise<BundleVerifier | undefined> {
  if (!config) return undefined;
  const { BundleVerifier } = await import("./bundle/verify.js");
  return new BundleVerifier(config);
}
