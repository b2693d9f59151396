/**
 * The SDK's front door: load a bundle, then decide. `decide` validates the input, evaluates it
 * in-process on the bundle's wasm, validates the policy's verdict and renders the decision.
 */
import { randomUUID } from "node:crypto";
import type { Decision, Verdict } from "./contracts/decision.js";
import type { Input } from "./contracts/input.js";
import { loadBundle, type Bundle } from "./bundle/load.js";
import { failClosed } from "./decision/fail-closed.js";
import { render, type RenderContext } from "./decision/render.js";
import { parseVerdict } from "./decision/verdict.js";
import type { Engine } from "./engine/engine.js";
import { WasmEngine } from "./engine/wasm.js";
import { EngineEvaluationError, isStepupError, type StepupErrors } from "./errors.js";
import { parseInput } from "./input/validate.js";

export interface StepupOptions {
  /**
   * Called when the policy could not decide; the decision returned is then the fail-closed one.
   * By default a line of JSON goes to stderr, naming the error and the target, never the input.
   */
  readonly onError?: (error: StepupErrors, input: Input, decisionId: string) => void;
  /** Decision ids; random UUIDs by default. */
  readonly newId?: () => string;
}

export class Stepup {
  private readonly onError: NonNullable<StepupOptions["onError"]>;
  private readonly newId: () => string;

  constructor(
    readonly bundle: Bundle,
    private readonly engine: Engine,
    options: StepupOptions = {},
  ) {
    this.onError = options.onError ?? logFailure;
    this.newId = options.newId ?? randomUUID;
  }

  /**
   * Loads a bundle (a .tar.gz or a directory) and compiles its policy.
   * @example
   * const stepup = await Stepup.load("bundles/stepup.tar.gz");
   * const decision = stepup.decide(input);
   */
  static async load(path: string, options?: StepupOptions): Promise<Stepup> {
    const bundle = await loadBundle(path);
    return new Stepup(bundle, await WasmEngine.load(bundle), options);
  }

  /** The revision of the bundle that makes every decision. */
  get revision(): string {
    return this.bundle.revision;
  }

  /**
   * Decides on an input document. Throws `InputInvalidError` naming the field when the input
   * breaks the contract; a failure inside the policy yields the fail-closed decision instead.
   */
  decide(raw: unknown): Decision {
    return this.decideInput(parseInput(raw));
  }

  /** Decides on an input that has already been validated with `parseInput`. */
  decideInput(input: Input): Decision {
    const ctx: RenderContext = { decisionId: this.newId(), revision: this.revision, codes: this.bundle.metadata.codes };
    let verdict: Verdict;
    try {
      verdict = parseVerdict(this.engine.evaluate(input));
    } catch (err) {
      const error = isStepupError(err)
        ? err
        : new EngineEvaluationError(`engine failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      this.onError(error, input, ctx.decisionId);
      return failClosed(input, error, ctx);
    }
    return render(verdict, input, ctx);
  }

  /** The policy's raw verdict for a validated input, without rendering. */
  evaluate(input: Input): Verdict {
    return parseVerdict(this.engine.evaluate(input));
  }
}

function logFailure(error: StepupErrors, input: Input, decisionId: string): void {
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
