/**
 * The in-process engine: the bundle's policy.wasm evaluated by OPA's npm WebAssembly SDK.
 * Synchronous and free of I/O once loaded.
 */
import { loadPolicy, type LoadedPolicy } from "@open-policy-agent/opa-wasm";
import type { Input } from "../contracts/input.js";
import type { Bundle } from "../bundle/load.js";
import { BundleInvalidError, EngineEvaluationError, EngineUndefinedError } from "../errors.js";
import type { Engine } from "./engine.js";

export class WasmEngine implements Engine {
  private constructor(
    private readonly policy: LoadedPolicy,
    private readonly entrypoint: number,
    readonly revision: string,
  ) {}

  /** Compiles the bundle's module and loads its data. */
  static async load(bundle: Bundle): Promise<WasmEngine> {
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(bundle.wasm);
      policy.setData(bundle.data);
    } catch (err) {
      throw new BundleInvalidError(bundle.source, `policy.wasm does not load: ${describe(err)}`, { cause: err });
    }
    const entrypoints = policy.entrypoints as Record<string, number>;
    const id = entrypoints[bundle.entrypoint];
    if (id === undefined) {
      throw new BundleInvalidError(bundle.source, `policy.wasm has no entrypoint ${bundle.entrypoint}`);
    }
    return new WasmEngine(policy, id, bundle.revision);
  }

  evaluate(input: Input): unknown {
    let resultSet: unknown;
    try {
      resultSet = this.policy.evaluate(input, this.entrypoint);
    } catch (err) {
      throw new EngineEvaluationError(`policy evaluation failed: ${describe(err)}`, { cause: err });
    }
    if (!Array.isArray(resultSet) || resultSet.length === 0) {
      throw new EngineUndefinedError("the policy gave no decision for this input");
    }
    return (resultSet[0] as { result: unknown }).result;
  }
}

// opa-wasm throws strings as well as Errors.
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
