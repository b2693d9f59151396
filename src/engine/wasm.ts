/**
 * The in-process engine: the bundle's policy.wasm evaluated by our own host over OPA's wasm ABI
 * (host.ts), at the entrypoint the bundle names, or at its packed twin `stepup/packed` when the
 * module has it, whose array the engine unpacks (packed.ts). Synchronous and free of I/O once
 * loaded. The compiled module is kept so that a worker pool can instantiate it in every thread
 * without compiling it again.
 */
import { jsonSchemaOf } from "../contracts/compiled.js";
import { InputSchema, type Input } from "../contracts/input.js";
import { DECISION_ENTRYPOINT, PACKED_ENTRYPOINT } from "../contracts/metadata.js";
import type { Bundle } from "../bundle/load.js";
import { BundleInvalidError, EngineEvaluationError, EngineUndefinedError, isStepupError } from "../errors.js";
import type { Engine } from "./engine.js";
import { OpaInstance } from "./host.js";
import { compileInputWriter, type InputWriter } from "./input-writer.js";
import { unpack } from "./packed.js";

/**
 * The input contract compiled into writers of JSON straight into the policy's memory (once, when
 * first needed): for validated inputs, and for a caller's documents, checked as they are written.
 */
let writers: { readonly input: InputWriter; readonly checked: InputWriter } | undefined;
function compiledWriters() {
  writers ??= {
    input: compileInputWriter(jsonSchemaOf(InputSchema, "output")),
    checked: compileInputWriter(jsonSchemaOf(InputSchema, "input"), { checked: true }),
  };
  return writers;
}

/**
 * What another thread needs to run an engine compiled here: the module (shared, not compiled
 * again) and the bundle's data as JSON text (cheaper to hand over than a graph of objects).
 */
export interface EngineTransfer {
  readonly module: WebAssembly.Module;
  readonly data: string;
  readonly entrypoint: string;
  readonly revision: string;
  readonly source: string;
}

/** The bundle's policy, evaluated in-process. */
export class WasmEngine implements Engine {
  private constructor(
    /** The compiled policy, shareable with worker threads. */
    readonly module: WebAssembly.Module,
    private readonly instance: OpaInstance,
    private readonly entrypoint: number,
    readonly revision: string,
  ) {}

  private readonly writers = compiledWriters();
  /** The length of the input `writeChecked` left in memory, or -1 when none is waiting. */
  private written = -1;

  /** Compiles the bundle's module and loads its data. */
  static async load(bundle: Bundle): Promise<WasmEngine> {
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bundle.wasm);
    } catch (err) {
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    return WasmEngine.fromModule(module, bundle);
  }

  /** Instantiates an already compiled module for a bundle (how pool workers start). */
  static fromModule(module: WebAssembly.Module, bundle: Pick<Bundle, "source" | "data" | "entrypoint" | "revision">): WasmEngine {
    let instance: OpaInstance;
    try {
      instance = OpaInstance.create(module);
      instance.setData(bundle.data);
      const { input, checked } = compiledWriters();
      instance.reserveInput(Math.max(input.maxBytes, checked.maxBytes));
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_BUNDLE_INVALID") throw new BundleInvalidError(bundle.source, err.reason, { cause: err });
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    if (instance.entrypoints[bundle.entrypoint] === undefined) {
      throw new BundleInvalidError(bundle.source, `policy.wasm has no entrypoint ${bundle.entrypoint}`);
    }
    // Bundles built by stepup also carry the decision packed into an array: the same values,
    // cheaper to produce and to read (packed.ts); the engine prefers it when the module has it.
    const packed = bundle.entrypoint === DECISION_ENTRYPOINT ? instance.entrypoints[PACKED_ENTRYPOINT] : undefined;
    const id = packed ?? instance.entrypoints[bundle.entrypoint]!;
    return new WasmEngine(module, instance, id, bundle.revision);
  }

  /** The engine and its bundle's data, for another thread to instantiate (`fromTransfer`). */
  static transfer(bundle: Pick<Bundle, "source" | "data" | "entrypoint" | "revision">, module: WebAssembly.Module): EngineTransfer {
    const { source, entrypoint, revision } = bundle;
    return { module, data: JSON.stringify(bundle.data), entrypoint, revision, source };
  }

  /** Instantiates, in this thread, an engine another thread compiled (`transfer`). */
  static fromTransfer(transfer: EngineTransfer): WasmEngine {
    return WasmEngine.fromModule(transfer.module, { ...transfer, data: JSON.parse(transfer.data) as Record<string, unknown> });
  }

  /** The policy's memory in bytes, for metrics. */
  get memoryBytes(): number {
    return this.instance.memoryBytes;
  }

  evaluate(input: Input): unknown {
    let resultSet: unknown[];
    try {
      resultSet = this.instance.evaluateWritten(this.writers.input, input, this.entrypoint);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    return this.result(resultSet);
  }

  /**
   * Checks a caller's document against the input contract while writing it into the policy's
   * memory, for `evaluateWrittenInput` to evaluate next: true when it meets the contract, false
   * when it does not or does not fit (the caller then validates it with zod and uses `evaluate`).
   */
  writeChecked(raw: unknown): boolean {
    this.written = this.instance.writeInput(this.writers.checked, raw);
    return this.written >= 0;
  }

  /** Evaluates the document `writeChecked` accepted. */
  evaluateWrittenInput(): unknown {
    if (this.written < 0) throw new EngineEvaluationError("no checked input is waiting to be evaluated");
    const length = this.written;
    this.written = -1;
    let resultSet: unknown[];
    try {
      resultSet = this.instance.evaluateInput(length, this.entrypoint);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    return this.result(resultSet);
  }

  private result(resultSet: unknown[]): unknown {
    if (resultSet.length === 0) throw new EngineUndefinedError("the policy gave no decision for this input");
    return unpack((resultSet[0] as { result: unknown }).result);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
