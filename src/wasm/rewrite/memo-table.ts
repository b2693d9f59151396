/**
 * OPA's memo as a flat table. Every rule OPA's planner compiles keeps its value in a memo for the
 * rest of the evaluation, keyed by the rule's function index: `opa_memoize_get(i)` before the
 * body, `opa_memoize_insert(i, value)` after it. OPA's runtime (wasm/src/memoize.c) keeps them in
 * one of its hash objects, so each get boxes the index as a number and hashes it, and each insert
 * allocates a number and an element and rehashes the object as it grows: about a quarter of
 * `opa_eval` for the decision policy (docs/performance.md). Here the same five functions keep a
 * table with a slot per function of the module instead, indexed directly. What they do is OPA's:
 * a slot holds what was inserted (an undefined value stays "not memoized", as in OPA's object),
 * `with` pushes a fresh, empty table and pops back to the one before, and tables live on OPA's
 * heap, reset with it on every evaluation. An index outside the table traps rather than touching
 * memory it should not; OPA's planner only passes indices of the module's own functions.
 */
import type binaryenModule from "binaryen";
import { BundleInvalidError } from "../../errors.js";
import { hasOpaFunction, opaSignature } from "./front.js";
import { REWRITES, type Rewrite } from "./names.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;

/** OPA's memo functions (memoize.h), whose signatures layout.ts holds. */
const MEMO_FUNCTIONS = ["opa_memoize_init", "opa_memoize_push", "opa_memoize_pop", "opa_memoize_insert", "opa_memoize_get"] as const;

const TABLE_GLOBAL = "stepup_memo_table";
const NEW_TABLE = "stepup_memo_new_table";
/** A table's header: the table `with` will pop back to, then padding so slots are 8-aligned. */
const HEADER = 8;

/**
 * Rewrites OPA's memo functions in `module` (read by binaryen, names kept) to use a flat table.
 * OPA's compiler always emits `opa_memoize_init` (its `eval` calls it first) and names its
 * functions; a module without it, or whose memo functions have other signatures, is not one
 * whose memo we know, and is refused. `where` names the module in errors.
 */
export function useMemoTable(b: Binaryen, module: Module, where: string): Rewrite[] {
  const present = MEMO_FUNCTIONS.filter((name) => hasOpaFunction(b, module, name, where));
  if (!present.includes("opa_memoize_init")) {
    throw new BundleInvalidError(where, "the wasm module has no opa_memoize_init, which OPA's compiler always writes; build without the rewrites (--optimize=o2)");
  }
  const mallocExport = module.getExport("opa_malloc");
  if (!mallocExport) throw new BundleInvalidError(where, "the wasm module does not export opa_malloc, part of OPA's ABI");
  const malloc = b.getExportInfo(mallocExport).value;
  // One slot per function, imports included: OPA's planner keys the memo by function index.
  const slots = module.getNumFunctions();
  const bytes = Math.ceil(slots / 2) * 8;
  const { i32, i64 } = module;

  module.addGlobal(TABLE_GLOBAL, b.i32, true, i32.const(0));
  const table = () => module.global.get(TABLE_GLOBAL, b.i32);

  // (param $prev) (local $table $at $end): a table on OPA's heap, zeroed, remembering $prev.
  const [prev, t, at, end] = [0, 1, 2, 3];
  const get = (index: number) => module.local.get(index, b.i32);
  module.addFunction(
    NEW_TABLE,
    b.createType([b.i32]),
    b.i32,
    [b.i32, b.i32, b.i32],
    module.block(
      null,
      [
        module.local.set(t, module.call(malloc, [i32.const(HEADER + bytes)], b.i32)),
        i32.store(0, 4, get(t), get(prev)),
        module.local.set(at, i32.add(get(t), i32.const(HEADER))),
        module.local.set(end, i32.add(get(at), i32.const(bytes))),
        module.loop(
          "zero",
          module.if(
            i32.lt_u(get(at), get(end)),
            module.block(null, [i64.store(0, 8, get(at), i64.const(0n)), module.local.set(at, i32.add(get(at), i32.const(8))), module.br("zero")]),
          ),
        ),
        get(t),
      ],
      b.i32,
    ),
  );

  // The slot of function index $0, after checking it lies in the table.
  const slot = () => i32.add(table(), i32.shl(get(0), i32.const(2)));
  const inRange = () => module.if(i32.ge_u(get(0), i32.const(slots)), module.unreachable());
  const bodies: Record<(typeof MEMO_FUNCTIONS)[number], binaryenModule.ExpressionRef> = {
    opa_memoize_init: module.global.set(TABLE_GLOBAL, module.call(NEW_TABLE, [i32.const(0)], b.i32)),
    opa_memoize_push: module.global.set(TABLE_GLOBAL, module.call(NEW_TABLE, [table()], b.i32)),
    opa_memoize_pop: module.global.set(TABLE_GLOBAL, i32.load(0, 4, table())),
    opa_memoize_insert: module.block(null, [inRange(), i32.store(HEADER, 4, slot(), get(1))]),
    opa_memoize_get: module.block(null, [inRange(), i32.load(HEADER, 4, slot())], b.i32),
  };
  for (const name of present) {
    // Calls name their target, so a function removed and added again under its name keeps its callers.
    const { params, results } = opaSignature(b, name);
    module.removeFunction(name);
    module.addFunction(name, b.createType(params), results, [], bodies[name]);
  }
  return [REWRITES.memoTable];
}
