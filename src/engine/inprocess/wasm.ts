/**
 * The in-process engine: the bundle's policy.wasm evaluated by our own host over OPA's wasm ABI
 * (host.ts), at the entrypoint the bundle names, or at its packed twin `stepup/packed` when the
 * module has it, whose array the engine unpacks (packed.ts). Synchronous and free of I/O once
 * loaded. The compiled module is kept so that a worker pool can instantiate it in every thread
 * without compiling it again.
 */
import { jsonSchemaOf } from "../../contracts/compiled.js";
import { InputSchema, type Input } from "../../contracts/input.js";
import { DECISION_ENTRYPOINT, PACKED_ENTRYPOINT } from "../../contracts/metadata.js";
import type { Bundle } from "../../bundle/load.js";
import { BundleInvalidError, EngineEvaluationError, EngineUndefinedError, isStepupError } from "../../errors.js";
import type { Engine } from "../engine.js";
import { OpaInstance } from "../../wasm/host.js";
import { compileInputWriter, longestList, probeDocument, TOO_LONG, type InputWriter } from "../../wasm/input-writer.js";
import { unpack } from "./packed.js";

/** Writers of the input contract: for validated inputs, and for a caller's documents, checked as they are written. */
interface Writers {
  readonly input: InputWriter;
  readonly checked: InputWriter;
}

/** The input contract's JSON Schemas (once, when first needed): of validated inputs, and of a caller's documents. */
let schemas: { readonly output: Record<string, unknown>; readonly input: Record<string, unknown> } | undefined;
function inputSchemas() {
  schemas ??= { output: jsonSchemaOf(InputSchema, "output"), input: jsonSchemaOf(InputSchema, "input") };
  return schemas;
}

/**
 * The input contract compiled into writers of JSON straight into the policy's memory (once, when
 * first needed).
 */
let writers: Writers | undefined;
function compiledWriters(): Writers {
  const { output, input } = inputSchemas();
  writers ??= { input: compileInputWriter(output), checked: compileInputWriter(input, { checked: true }) };
  return writers;
}

/**
 * Writers of the input as OPA's values, compiled for one instance (input-writer.ts), so that the
 * policy need not parse it: undefined when the instance cannot take them or a probe document
 * written so does not come out as OPA's parser builds it from JSON, and the engine then writes JSON.
 */
function valueWriters(instance: OpaInstance): Writers | undefined {
  const { output, input } = inputSchemas();
  let values: Writers;
  try {
    const form = instance.valueForm(longestList(output));
    values = { input: compileInputWriter(output, { values: form }), checked: compileInputWriter(input, { checked: true, values: form }) };
  } catch {
    return undefined;
  }
  const probe = probeDocument(output);
  instance.reserveInput(values.input.maxBytes);
  return instance.writesAsParsed(values.input, probe, JSON.stringify(probe)) ? values : undefined;
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
    /** Writers of the input as OPA's values for this instance, when it was shown to take them. */
    private readonly values: Writers | undefined,
  ) {}

  private readonly writers = compiledWriters();

  /** Whether inputs go to the policy as OPA's values (no parsing in the module) rather than as JSON. */
  get writesValues(): boolean {
    return this.values !== undefined;
  }

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
    let values: Writers | undefined;
    try {
      instance = OpaInstance.create(module);
      instance.setData(bundle.data);
      values = valueWriters(instance);
      const { input, checked } = compiledWriters();
      instance.reserveInput(Math.max(input.maxBytes, checked.maxBytes, values?.input.maxBytes ?? 0, values?.checked.maxBytes ?? 0));
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
    return new WasmEngine(module, instance, id, bundle.revision, values);
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
      const end = this.values ? this.instance.writeValueInput(this.values.input, input) : TOO_LONG;
      resultSet = end >= 0 ? this.instance.evaluateValueInput(end, this.entrypoint) : this.instance.evaluateWritten(this.writers.input, input, this.entrypoint);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    return this.result(resultSet);
  }

  /**
   * Checks a caller's document against the input contract while writing it into the policy's
   * memory: its evaluation when it meets the contract, undefined when it does not or does not fit
   * (the caller then validates it with zod and uses `evaluate`). The evaluation reads what was
   * written, so it must run before the engine takes another document.
   */
  takeChecked(raw: unknown): (() => unknown) | undefined {
    const written = this.values ? this.instance.writeValueInput(this.values.checked, raw) : this.instance.writeInput(this.writers.checked, raw);
    if (written < 0) return undefined;
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
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
