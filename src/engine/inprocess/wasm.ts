/**
 * The in-process engine: the bundle's policy.wasm evaluated by our own host over OPA's wasm ABI
 * (src/wasm/host.ts), at the entrypoint the bundle names, or at its packed twin `stepup/packed`
 * when the module has it, whose array the engine unpacks (src/contracts/packed.ts). The fast paths — the input
 * written into memory, as OPA's values where the module takes them; results read from memory —
 * can be turned off (`fastPaths: false`) for OPA's stock path; where one does not hold, the
 * engine falls back to the stock road and reports it once (fallbacks.ts). Synchronous and free of
 * I/O once loaded. The compiled module is kept so that a worker pool can instantiate it in every
 * thread without compiling it again.
 *
 * A bundle's module is code from outside (unsigned, or signed with a stolen key) and runs
 * synchronously: one that loops would hang the thread that calls it. So `load` starts it and
 * evaluates probe inputs under a deadline (a V8 watchdog that stops the thread's JavaScript and
 * wasm alike), and refuses a module that does not finish; only then does it serve decisions.
 */
import { Script } from "node:vm";
import type { Input } from "../../contracts/input.js";
import { DECISION_ENTRYPOINT, PACKED_ENTRYPOINT, type BundleMetadata } from "../../contracts/metadata.js";
import type { Bundle } from "../../bundle/load.js";
import { BundleInvalidError, EngineEvaluationError, EngineUndefinedError, isStepupError } from "../../errors.js";
import type { Engine, EngineInfo, TakenDocument } from "../engine.js";
import type { CheckedDocument } from "../../decision/conclude.js";
import { checkParsedInput, snapshotInput } from "../../input/snapshot.js";
import { OpaInstance } from "../../wasm/host.js";
import { compileModule } from "../../wasm/module.js";
import { jsonWriter, TOO_LONG, valueWriterOf, type InputWriter } from "../../wasm/input-writer.js";
import { JSON_WRITERS } from "../../wasm/generated/json-writers.js";
import { PROBES, VALUE_WRITERS } from "../../wasm/generated/value-writers.js";
import { normalizeInput } from "../../input/validate.js";
import { FALLBACKS, type EngineEvent, type Fallback } from "./fallbacks.js";
import { unpack } from "../../contracts/packed.js";

/** Writers of the input contract: for validated inputs, and for a caller's documents, checked as they are written. */
interface Writers {
  readonly input: InputWriter;
  readonly checked: InputWriter;
}

/**
 * The input contract compiled into writers of JSON straight into the policy's memory: generated
 * with the contract's other code (src/wasm/generated/, by scripts/contract-code.ts), so that no
 * process compiles them when it loads a bundle; test/contracts.test.ts holds them to what
 * `compileInputWriter` compiles from the contract now.
 */
let writers: Writers | undefined;
function compiledWriters(): Writers {
  writers ??= { input: jsonWriter(JSON_WRITERS.input), checked: jsonWriter(JSON_WRITERS.checked) };
  return writers;
}

/**
 * Writers of the input as OPA's values for one instance (input-writer.ts), so that the policy need
 * not parse it: the templates generated from the contract (src/wasm/generated/, by
 * scripts/contract-code.ts) filled in with the instance's form, which is what compiling them from
 * the contract here would give (test/wasm/input-values.test.ts). Undefined when the instance
 * cannot take them or a probe document written so does not come out as OPA's parser builds it from
 * JSON, and the engine then writes JSON.
 */
function valueWriters(instance: OpaInstance): Writers | undefined {
  let values: Writers;
  try {
    const form = instance.valueForm(Math.max(VALUE_WRITERS.input.longestList, VALUE_WRITERS.checked.longestList));
    values = { input: valueWriterOf(VALUE_WRITERS.input, form), checked: valueWriterOf(VALUE_WRITERS.checked, form) };
  } catch {
    return undefined;
  }
  instance.reserveInput(values.input.maxBytes);
  return instance.writesAsParsed(values.input, PROBES.full, JSON.stringify(PROBES.full)) ? values : undefined;
}

/** How the in-process engine runs the module: `Stepup.load`'s and `Stepup.create`'s options. */
export interface EngineOptions {
  /**
   * The fast paths (default true): the input written into memory by a writer compiled from the
   * input contract — as OPA's values when the module is shown to take them — the packed
   * entrypoint, and results read from memory by the value reader. False takes OPA's stock path
   * instead: the input as JSON text that OPA parses, the entrypoint the bundle names, and
   * `opa_eval`'s JSON result — what OPA's own wasm SDKs do, on the same module.
   */
  readonly fastPaths?: boolean;
  /** Called once per kind of fallback the engine takes (fallbacks.ts). */
  readonly onEvent?: (event: EngineEvent) => void;
  /** The most the module may take to start, load its data and evaluate the probe inputs; `LOAD_BUDGET_MS` by default. */
  readonly budgetMs?: number;
}

/** What of a bundle an engine needs: its data, entrypoint, revision and the record of how its module was built. */
export type EngineBundle = Pick<Bundle, "source" | "data" | "entrypoint" | "revision"> & {
  readonly metadata?: { readonly wasm: Pick<BundleMetadata["wasm"], "opa_version" | "optimizer" | "rewrites"> };
};

/**
 * What another thread needs to run an engine compiled here: the module (shared, not compiled
 * again), the bundle's data as JSON text (cheaper to hand over than a graph of objects), and how
 * to run it.
 */
export interface EngineTransfer {
  readonly module: WebAssembly.Module;
  readonly data: string;
  readonly entrypoint: string;
  readonly revision: string;
  readonly source: string;
  readonly wasm: Pick<BundleMetadata["wasm"], "opa_version" | "optimizer" | "rewrites">;
  readonly fastPaths: boolean;
}

/** The bundle's policy, evaluated in-process. */
export class WasmEngine implements Engine {
  private readonly writers = compiledWriters();
  private readonly fallbacks = new Set<Fallback>();

  private constructor(
    /** The compiled policy, shareable with worker threads. */
    readonly module: WebAssembly.Module,
    private readonly instance: OpaInstance,
    private readonly entrypoint: number,
    readonly revision: string,
    /** Writers of the input as OPA's values for this instance, when it was shown to take them. */
    private readonly values: Writers | undefined,
    private readonly about: Omit<EngineInfo, "input" | "result" | "fallbacks">,
    private readonly onEvent: ((event: EngineEvent) => void) | undefined,
  ) {}

  /** Whether inputs go to the policy as OPA's values (no parsing in the module) rather than as JSON. */
  get writesValues(): boolean {
    return this.values !== undefined;
  }

  /** What the engine runs and how. */
  get info(): EngineInfo {
    const input = !this.about.fastPaths ? "json" : this.values ? "values" : "json-writer";
    const result = this.about.fastPaths && this.instance.readsValues ? "value-reader" : "json";
    return { ...this.about, input, result, fallbacks: [...this.fallbacks] };
  }

  /**
   * Compiles the bundle's module, loads its data and checks that it evaluates: all of it within
   * `options.budgetMs` (`LOAD_BUDGET_MS` by default), or the bundle is refused (`ERR_BUNDLE_INVALID`).
   */
  static async load(bundle: EngineBundle & Pick<Bundle, "wasm">, options: EngineOptions = {}): Promise<WasmEngine> {
    let module: WebAssembly.Module;
    try {
      module = await compileModule(bundle.wasm);
    } catch (err) {
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    // Compiling runs none of the module's code; instantiating it and everything after may.
    return withinBudget(bundle.source, options.budgetMs ?? LOAD_BUDGET_MS, () => {
      const engine = WasmEngine.fromModule(module, bundle, options);
      engine.selfCheck();
      return engine;
    });
  }

  /**
   * Evaluates probe inputs — the least a document holds, and every field set — as decisions are
   * evaluated, so that a module that loops there does so under `load`'s deadline rather than in
   * the first `decide`. What the policy answers does not matter here (a failure to decide fails
   * closed later); that it answers does.
   */
  private selfCheck(): void {
    // Generated with the contract's other code: the least document, normalized, and the fullest.
    probes ??= [PROBES.least as Input, PROBES.full as Input];
    for (const probe of probes) {
      try {
        this.evaluate(probe);
        this.takeChecked(probe)?.evaluate();
      } catch {
        // The answer is not what is checked here.
      }
    }
  }

  /** Instantiates an already compiled module for a bundle (how pool workers start). */
  static fromModule(module: WebAssembly.Module, bundle: EngineBundle, options: EngineOptions = {}): WasmEngine {
    const fastPaths = options.fastPaths ?? true;
    const built = bundle.metadata?.wasm;
    const rewrites = built?.rewrites ?? [];
    const reported: Fallback[] = [];
    let engine: WasmEngine | undefined;
    // Reported once the engine exists: what the instance finds while it is made waits for it.
    const fellBack = (fallback: Fallback) => (engine ? engine.fellBack(fallback) : reported.push(fallback));
    let instance: OpaInstance;
    let values: Writers | undefined;
    try {
      instance = OpaInstance.create(module, { rewrites, valueReader: fastPaths, onForeignValue: () => fellBack("value-reader-value") });
      instance.setData(bundle.data);
      if (fastPaths) {
        values = valueWriters(instance);
        const { input, checked } = compiledWriters();
        instance.reserveInput(Math.max(input.maxBytes, checked.maxBytes, values?.input.maxBytes ?? 0, values?.checked.maxBytes ?? 0));
        if (!instance.readsValues) fellBack("value-reader");
        if (!values) fellBack("value-writer");
      }
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_BUNDLE_INVALID") throw new BundleInvalidError(bundle.source, err.reason, { cause: err });
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    if (instance.entrypoints[bundle.entrypoint] === undefined) {
      throw new BundleInvalidError(bundle.source, `policy.wasm has no entrypoint ${bundle.entrypoint}`);
    }
    // Bundles built by stepup also carry the decision packed into an array: the same values,
    // cheaper to produce and to read (src/contracts/packed.ts); the engine prefers it when the module has it.
    const packed = fastPaths && bundle.entrypoint === DECISION_ENTRYPOINT ? instance.entrypoints[PACKED_ENTRYPOINT] : undefined;
    if (fastPaths && packed === undefined) fellBack("packed-entrypoint");
    const entrypoint = packed === undefined ? bundle.entrypoint : PACKED_ENTRYPOINT;
    const about = { opaVersion: built?.opa_version, optimizer: built?.optimizer, rewrites, fastPaths, entrypoint };
    engine = new WasmEngine(module, instance, instance.entrypoints[entrypoint]!, bundle.revision, values, about, options.onEvent);
    for (const fallback of reported) engine.fellBack(fallback);
    return engine;
  }

  /** The engine and its bundle's data, for another thread to instantiate (`fromTransfer`) as `options` say. */
  static transfer(bundle: EngineBundle, module: WebAssembly.Module, options: Pick<EngineOptions, "fastPaths"> = {}): EngineTransfer {
    const { source, entrypoint, revision } = bundle;
    const { opa_version, optimizer, rewrites } = bundle.metadata?.wasm ?? {};
    const wasm = { opa_version, optimizer, rewrites };
    return { module, data: JSON.stringify(bundle.data), entrypoint, revision, source, wasm, fastPaths: options.fastPaths ?? true };
  }

  /** Instantiates, in this thread, an engine another thread compiled (`transfer`). */
  static fromTransfer(transfer: EngineTransfer): WasmEngine {
    const bundle = { ...transfer, data: JSON.parse(transfer.data) as Record<string, unknown>, metadata: { wasm: transfer.wasm } };
    return WasmEngine.fromModule(transfer.module, bundle, { fastPaths: transfer.fastPaths });
  }

  /** The policy's memory in bytes, for metrics. */
  get memoryBytes(): number {
    return this.instance.memoryBytes;
  }

  evaluate(input: Input): unknown {
    let resultSet: unknown[];
    try {
      const end = this.values ? this.instance.writeValueInput(this.values.input, input) : TOO_LONG;
      resultSet = end >= 0 ? this.instance.evaluateValueInput(end, this.entrypoint) : this.evaluateAsJson(input);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    return this.result(resultSet);
  }

  /** An input the value writer did not take, or any input without it: as JSON for OPA to parse. */
  private evaluateAsJson(input: Input): unknown[] {
    if (!this.about.fastPaths) return JSON.parse(this.instance.evaluateText(JSON.stringify(input), this.entrypoint)) as unknown[];
    const length = this.instance.writeInput(this.writers.input, input);
    if (this.values || length < 0) this.fellBack("value-writer-input");
    return length < 0 ? this.instance.evaluate(JSON.stringify(input), this.entrypoint) : this.instance.evaluateInput(length, this.entrypoint);
  }

  /**
   * Checks a caller's document against the input contract while writing it into the policy's
   * memory: the input as read and its evaluation when it meets the contract, undefined when it
   * does not or does not fit (the caller then validates it with zod and uses `evaluate`). The
   * evaluation reads what was written, so it must run before the engine takes another document.
   * Without the fast paths, undefined for every document.
   *
   * The writer of OPA's values reads the caller's document itself, once, and builds the
   * normalized input from what it read as it writes: one pass instead of a snapshot, a check and
   * a write. The JSON writer (no value form) writes a snapshot of it instead.
   */
  takeChecked(raw: unknown, parsed = false): TakenDocument | undefined {
    if (!this.about.fastPaths) return undefined;
    if (this.values) {
      const written = this.instance.writeValueInput(this.values.checked, raw);
      if (written < 0) return undefined;
      return { input: this.values.checked.document!() as Input, evaluate: this.evaluation(written) };
    }
    const doc = parsed ? checkParsedInput(raw) : snapshotInput(raw);
    const written = this.instance.writeInput(this.writers.checked, doc);
    if (written < 0) return undefined;
    return { input: checkedDocument(doc), evaluate: this.evaluation(written) };
  }

  /** The evaluation of the document written, up to `written`. */
  private evaluation(written: number): () => unknown {
    return () => this.evaluateWritten(written);
  }

  private evaluateWritten(written: number): unknown {
    let resultSet: unknown[];
    try {
      resultSet = this.values ? this.instance.evaluateValueInput(written, this.entrypoint) : this.instance.evaluateInput(written, this.entrypoint);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    return this.result(resultSet);
  }

  private result(resultSet: unknown[]): unknown {
    if (resultSet.length === 0) throw new EngineUndefinedError("the policy gave no decision for this input");
    return unpack((resultSet[0] as { result: unknown }).result);
  }

  /** Reports a fallback the first time this engine takes it. */
  private fellBack(fallback: Fallback): void {
    if (this.fallbacks.has(fallback)) return;
    this.fallbacks.add(fallback);
    this.onEvent?.({ type: "fallback", fallback, message: FALLBACKS[fallback], revision: this.revision });
  }
}

/**
 * A snapshot the JSON writer's check accepted, normalized only if someone reads the whole of it
 * (listeners, and the fail-closed path): the decision itself reads its target alone.
 */
function checkedDocument(doc: unknown): CheckedDocument {
  let normalized: Input | undefined;
  return {
    target: (doc as Input).target,
    normalized: () => (normalized ??= normalizeInput(doc)),
  };
}

/** The most a bundle's module may take to start, load its data and evaluate the probes, by default. */
export const LOAD_BUDGET_MS = 5_000;

let probes: readonly Input[] | undefined;

/** Where the guard's script finds the work it runs, for the length of the run: a symbol only stepup names. */
const WORK = Symbol.for("stepup.load-budget.work");
let guard: Script | undefined;

/**
 * Runs `work` under a deadline: V8's watchdog (the one behind `vm`'s timeout) stops this thread's
 * JavaScript and wasm when it passes, however deep in a module's loop; the module is refused. The
 * script runs in this context and calls `work` through a property keyed by a symbol on the global
 * object, there only while it runs: a context of its own cost a cold start a millisecond to make,
 * and only its watchdog is needed.
 */
function withinBudget<T>(source: string, budgetMs: number, work: () => T): T {
  guard ??= new Script(`globalThis[Symbol.for(${JSON.stringify(WORK.description)})]()`);
  const global = globalThis as unknown as Record<symbol, (() => T) | undefined>;
  global[WORK] = work;
  try {
    return guard.runInThisContext({ timeout: budgetMs }) as T;
  } catch (err) {
    if ((err as { code?: unknown }).code !== "ERR_SCRIPT_EXECUTION_TIMEOUT") throw err;
    throw new BundleInvalidError(source, `policy.wasm did not start and evaluate its probe inputs within ${budgetMs} ms (does it loop?)`, { cause: err });
  } finally {
    delete global[WORK];
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
