/**
 * The in-process engine: the bundle's policy.wasm evaluated by our own host over OPA's wasm ABI
 * (host.ts). Synchronous and free of I/O once loaded. The compiled module is kept so that a worker
 * pool can instantiate the same code in every thread without compiling it again.
 */
import { jsonSchemaOf } from "../contracts/compiled.js";
import { InputSchema, type Input } from "../contracts/input.js";
import type { Bundle } from "../bundle/load.js";
import { BundleInvalidError, EngineEvaluationError, EngineUndefinedError, isStepupError } from "../errors.js";
import type { Engine } from "./engine.js";
import { OpaInstance } from "./host.js";
import { compileInputWriter, type InputWriter } from "./input-writer.js";

/** The input contract compiled into a writer of JSON straight into the policy's memory (once, when first needed). */
let writer: InputWriter | undefined;
const writeInput = (): InputWriter => (writer ??= compileInputWriter(jsonSchemaOf(InputSchema, "output")));

export class WasmEngine implements Engine {
  private constructor(
    /** The compiled policy, shareable with worker threads. */
    readonly module: WebAssembly.Module,
    private readonly instance: OpaInstance,
    private readonly entrypoint: number,
    readonly revision: string,
  ) {}

  private readonly write = writeInput();

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
      instance.reserveInput(writeInput().maxBytes);
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_BUNDLE_INVALID") throw new BundleInvalidError(bundle.source, err.reason, { cause: err });
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    const id = instance.entrypoints[bundle.entrypoint];
    if (id === undefined) {
      throw new BundleInvalidError(bundle.source, `policy.wasm has no entrypoint ${bundle.entrypoint}`);
    }
    return new WasmEngine(module, instance, id, bundle.revision);
  }

  /** The policy's memory in bytes, for metrics. */
  get memoryBytes(): number {
    return this.instance.memoryBytes;
  }

  evaluate(input: Input): unknown {
    let resultSet: unknown[];
    try {
      resultSet = JSON.parse(this.instance.evaluateWritten(this.write, input, this.entrypoint)) as unknown[];
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    if (resultSet.length === 0) throw new EngineUndefinedError("the policy gave no decision for this input");
    return (resultSet[0] as { result: unknown }).result;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
