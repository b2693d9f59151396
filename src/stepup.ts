/**
 * The SDK's front door: load a bundle, then decide. `decide` validates the input, evaluates it
 * in-process on the bundle's wasm, validates the policy's verdict and renders the decision.
 */
import { randomUUID } from "node:crypto";
import type { Decision, Verdict } from "./contracts/decision.js";
import type { Input } from "./contracts/input.js";
import { loadBundle, type Bundle, type LoadOptions } from "./bundle/load.js";
import { BundleVerifier } from "./bundle/verify.js";
import type { VerificationConfig } from "./contracts/signing.js";
import { conclude, logFailure, type ConcludeHooks, type DecisionEvent } from "./decision/conclude.js";
import { decideDocument } from "./engine/decide.js";
import type { RenderContext } from "./decision/render.js";
import { parseVerdict, prepareVerdictCheck } from "./decision/verdict.js";
import type { Engine, EngineInfo } from "./engine/engine.js";
import { Answers, answerBuffer, atIndex, decideLines, KeptBuffer, LineFailure, type LinesOptions } from "./engine/batch/ndjson.js";
import { DecisionPool, type PoolOptions } from "./engine/batch/pool.js";
import { logEngineEvent, type EngineEvent } from "./engine/inprocess/fallbacks.js";
import { WasmEngine, type EngineOptions } from "./engine/inprocess/wasm.js";
import type { StepupErrors } from "./errors.js";

export interface StepupOptions {
  /**
   * Called when the policy could not decide; the decision returned is then the fail-closed one.
   * By default a line of JSON goes to stderr, naming the error and the target, never the input.
   */
  readonly onError?: (error: StepupErrors, input: Input, decisionId: string) => void;
  /** Called after every decision, the fail-closed ones included (decision logs, metrics). */
  readonly onDecision?: (event: DecisionEvent) => void;
  /** Decision ids; random UUIDs by default. */
  readonly newId?: () => string;
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

interface Active {
  readonly bundle: Bundle;
  readonly engine: Engine;
}

export class Stepup {
  private active: Active;
  private readonly hooks: ConcludeHooks;
  private readonly newId: () => string;
  private readonly spareAnswers = new KeptBuffer<Buffer>();
  private readonly engineOptions: EngineOptions;

  constructor(bundle: Bundle, engine: Engine, options: StepupOptions = {}) {
    this.active = { bundle, engine };
    this.hooks = { onError: options.onError ?? logFailure, onDecision: options.onDecision };
    this.newId = options.newId ?? randomUUID;
    this.engineOptions = engineOptions(options);
  }

  /**
   * Loads a bundle (a .tar.gz or a directory) and compiles its policy.
   * @example
   * const stepup = await Stepup.load("bundles/stepup.tar.gz");
   * const decision = stepup.decide(input);
   */
  static async load(path: string, options: StepupLoadOptions = {}): Promise<Stepup> {
    const verifier = options.verification ? new BundleVerifier(options.verification) : undefined;
    const bundle = await loadBundle(path, { verifier, limits: options.limits });
    return Stepup.create(bundle, options);
  }

  /** Compiles a bundle already loaded (and verified) and decides with it. */
  static async create(bundle: Bundle, options: StepupOptions = {}): Promise<Stepup> {
    const engine = await WasmEngine.load(bundle, engineOptions(options));
    prepareVerdictCheck();
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
   * ever split between two revisions; if compiling fails, the current bundle stays active.
   */
  async activate(bundle: Bundle): Promise<void> {
    const engine = await WasmEngine.load(bundle, this.engineOptions);
    this.active = { bundle, engine };
  }

  /**
   * Decides on an input document. Throws `InputInvalidError` naming the field when the input
   * breaks the contract (a string that is not Unicode text included); a failure inside the policy
   * yields the fail-closed decision instead. The document is read once, so what is evaluated is
   * what the decision and its log show, whatever getters it has.
   */
  decide(raw: unknown): Decision {
    return this.decideDocument(raw, false);
  }

  /** `decide`; a `parsed` document (from JSON) is data already, so it is not copied first. */
  private decideDocument(raw: unknown, parsed: boolean): Decision {
    const { bundle, engine } = this.active;
    return decideDocument(engine, raw, { decisionId: this.newId(), revision: bundle.revision, codes: bundle.metadata.codes }, this.hooks, parsed);
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
    const { bundle, engine } = this.active;
    const ctx = { decisionId: this.newId(), revision: bundle.revision, codes: bundle.metadata.codes };
    return conclude(input, ctx, this.hooks, () => engine.evaluate(input));
  }

  /**
   * The fail-closed deny for an input the caller could not complete or must not decide on (a
   * signal source failed on a sensitive target). It names the error and is reported through
   * `onError` and `onDecision` like any other failure to decide.
   */
  failClosed(input: Input, error: StepupErrors): Decision {
    const ctx = { decisionId: this.newId(), revision: this.active.bundle.revision, codes: this.active.bundle.metadata.codes };
    return conclude(input, ctx, this.hooks, () => {
      throw error;
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
}

/** The options of the engines a Stepup compiles. */
function engineOptions(options: StepupOptions): EngineOptions {
  return { fastPaths: options.fastPaths ?? true, onEvent: options.onEngineEvent ?? logEngineEvent, budgetMs: options.loadBudgetMs };
}
