/**
 * What the bundle build's rewrites of OPA's runtime share (string-paths.ts, parsed-integers.ts,
 * iteration-cursor.ts): finding one of OPA's functions with the signature OPA gives it, and putting
 * a front before it that handles the common case itself and hands the rest to OPA's own body.
 */
import type binaryenModule from "binaryen";
import { BundleInvalidError } from "../../errors.js";
import { RUNTIME_FUNCTIONS, type RuntimeFunction, type WasmType } from "../layout.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;
type Expression = binaryenModule.ExpressionRef;

/** A wasm value type as binaryen numbers it. */
function binaryenType(b: Binaryen, type: WasmType): number {
  return b[type];
}

/** The parameters and result of OPA's runtime function `name` (layout.ts), as binaryen types. */
export function opaSignature(b: Binaryen, name: RuntimeFunction): { params: number[]; results: number } {
  const [params, results] = RUNTIME_FUNCTIONS[name];
  return { params: params.map((type) => binaryenType(b, type)), results: binaryenType(b, results) };
}

/**
 * Whether `module` has OPA's function `name`: false when it lacks it (a policy's runtime may be
 * stripped of what it does not call); refused when it has other parameters or results than the
 * layout gives it (layout.ts), since a front written for OPA's would then be written blind.
 * `where` names the module.
 */
export function hasOpaFunction(b: Binaryen, module: Module, name: RuntimeFunction, where: string): boolean {
  const fn = module.getFunction(name);
  if (!fn) return false;
  const info = b.getFunctionInfo(fn);
  const { params, results } = opaSignature(b, name);
  if (b.expandType(info.params).join() !== params.join() || info.results !== results) {
    throw new BundleInvalidError(where, `${name} has a signature OPA's runtime does not give it; build without the rewrites (--optimize=o2)`);
  }
  return true;
}

/**
 * Puts a front before OPA's function `name`: OPA's body is kept whole as `<name>$opa` (its own
 * calls to `name`, such as hashing an array's items, go through the front again), and `name`
 * becomes `body(opa)`, where `opa` calls OPA's body with the front's parameters and returns what
 * it gives. `vars` are the front's locals after its parameters.
 */
export function addFront(b: Binaryen, module: Module, name: string, vars: readonly number[], body: (opa: Expression) => Expression): void {
  const info = b.getFunctionInfo(module.getFunction(name));
  const kept = `${name}$opa`;
  module.addFunction(kept, info.params, info.results, info.vars, module.copyExpression(info.body));
  module.removeFunction(name);
  const call = module.call(kept, b.expandType(info.params).map((type, i) => module.local.get(i, type)), info.results);
  module.addFunction(name, info.params, info.results, [...vars], body(info.results === b.none ? call : module.return(call)));
}
