/**
 * Fast paths for strings in three of OPA's runtime functions. A policy's lookups are nearly all by
 * string key (`input.device.managed` is two), and OPA's runtime takes the general road for every
 * one: `opa_value_get` hashes the key through `opa_value_hash` (a switch over every type) and walks
 * the bucket calling `opa_value_compare` on each key (two type lookups, a switch, then
 * `opa_value_compare_string` and `opa_strncmp`, each a call). After binaryen's inlining those stay
 * calls, and together they were half of `opa_eval` for the decision policy (docs/performance.md).
 *
 * Each function keeps OPA's body under a new name (`<name>$opa`) and gets a front that handles
 * strings (OPA_STRING, or OPA_STRING_INTERNED, the same struct) itself and hands anything else to
 * OPA's body. What the fronts compute is what OPA's code computes (wasm/src/value.c, str.c):
 *   - `opa_value_hash` of a string: FNV-1a over its bytes (`fnv1a32`, 32-bit);
 *   - `opa_value_compare` of two strings: the first differing byte, unsigned, then the lengths
 *     (`opa_value_compare_string`), -1, 0 or 1;
 *   - `opa_value_get` of an object by a string key: the bucket of the key's hash modulo the
 *     bucket count, and the element whose key is a string with the same bytes — equal to OPA's
 *     `opa_value_compare(k, key) == 0` there, since a key of any other type never compares equal.
 */
import type binaryenModule from "binaryen";
import { BundleInvalidError } from "../errors.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;
type Expression = binaryenModule.ExpressionRef;

// OPA's type tags (wasm/src/value.h) and struct offsets (wasm32).
const OPA_OBJECT = 6;
const OPA_STRING = 4;
const OPA_STRING_INTERNED = 8;
/** opa_string_t { hdr; free; len @4; v @8 }. */
const STRING_LEN = 4;
const STRING_BYTES = 8;
/** opa_object_t { hdr; buckets @4; n @8; len }, opa_object_elem_t { k @0; v @4; next @8 }. */
const OBJECT_BUCKETS = 4;
const OBJECT_N = 8;
const ELEM_V = 4;
const ELEM_NEXT = 8;
const FNV32_INIT = 0x811c9dc5 | 0;
const FNV32_PRIME = 0x01000193;

/** The runtime functions given a front, with OPA's signatures (binaryen types filled in later). */
const FRONTED = ["opa_value_hash", "opa_value_compare", "opa_value_get"] as const;

/**
 * Gives OPA's `opa_value_hash`, `opa_value_compare` and `opa_value_get` in `module` their string
 * fronts. A module that names none of them is left alone (a module OPA compiled always has them,
 * but a policy's runtime may be stripped of what it does not call); one whose functions have other
 * signatures than OPA's is refused. `where` names the module in errors.
 */
export function useStringPaths(b: Binaryen, module: Module, where: string): void {
  const { i32 } = module;
  const signature: Record<(typeof FRONTED)[number], number[]> = {
    opa_value_hash: [b.i32],
    opa_value_compare: [b.i32, b.i32],
    opa_value_get: [b.i32, b.i32],
  };
  for (const name of FRONTED) {
    const fn = module.getFunction(name);
    if (!fn) continue;
    const info = b.getFunctionInfo(fn);
    if (b.expandType(info.params).join() !== signature[name].join() || info.results !== b.i32) {
      throw new BundleInvalidError(where, `${name} has a signature OPA's runtime does not give it; build without optimizing (--no-optimize)`);
    }
  }

  // Helpers over locals by index; every local here is an i32.
  const get = (index: number) => module.local.get(index, b.i32);
  const set = (index: number, value: Expression) => module.local.set(index, value);
  const load = (offset: number, ptr: Expression) => i32.load(offset, 1, ptr);
  const byte = (ptr: Expression) => i32.load8_u(0, 1, ptr);
  /** Whether the value at local `index` is a string (OPA_STRING or OPA_STRING_INTERNED). */
  const isString = (index: number) => i32.or(i32.eq(byte(get(index)), i32.const(OPA_STRING)), i32.eq(byte(get(index)), i32.const(OPA_STRING_INTERNED)));
  /** Statements running `body` for local `i` from 0 while it is below local `len`. */
  const forEachIndex = (i: number, len: number, label: string, body: Expression[]): Expression[] => [
    set(i, i32.const(0)),
    module.loop(label, module.if(i32.lt_u(get(i), get(len)), module.block(null, [...body, set(i, i32.add(get(i), i32.const(1))), module.br(label)]))),
  ];
  /** Statements leaving in local `hash` the FNV-1a hash of `len` bytes at `ptr` (locals), using local `i`. */
  const fnv = (hash: number, ptr: number, len: number, i: number, label: string): Expression[] => [
    set(hash, i32.const(FNV32_INIT)),
    ...forEachIndex(i, len, label, [set(hash, i32.xor(i32.mul(get(hash), i32.const(FNV32_PRIME)), byte(i32.add(get(ptr), get(i)))))]),
  ];
  /**
   * Statements comparing `len` bytes at `pa` and `pb` (locals) with local `i`: on the first that
   * differs, `onDiffer(a < b)`; falls through when all are equal.
   */
  const sameBytes = (pa: number, pb: number, len: number, i: number, label: string, onDiffer: (less: Expression) => Expression): Expression[] => {
    const at = (p: number) => byte(i32.add(get(p), get(i)));
    return forEachIndex(i, len, label, [module.if(i32.ne(at(pa), at(pb)), onDiffer(i32.lt_u(at(pa), at(pb))))]);
  };

  const fronts: Record<(typeof FRONTED)[number], { vars: number; body: (opa: Expression) => Expression }> = {
    // (param $v) (local $hash $i $ptr $len)
    opa_value_hash: {
      vars: 4,
      body: (opa) =>
        module.block(
          null,
          [
            module.if(
              isString(0),
              module.block(null, [
                set(3, load(STRING_BYTES, get(0))),
                set(4, load(STRING_LEN, get(0))),
                ...fnv(1, 3, 4, 2, "hash"),
                module.return(get(1)),
              ]),
            ),
            opa,
          ],
          b.i32,
        ),
    },
    // (param $a $b) (local $la $lb $pa $pb $min $i)
    opa_value_compare: {
      vars: 6,
      body: (opa) =>
        module.block(
          null,
          [
            module.if(
              i32.and(i32.and(i32.ne(get(0), i32.const(0)), i32.ne(get(1), i32.const(0))), i32.and(isString(0), isString(1))),
              module.block(null, [
                set(2, load(STRING_LEN, get(0))),
                set(3, load(STRING_LEN, get(1))),
                set(4, load(STRING_BYTES, get(0))),
                set(5, load(STRING_BYTES, get(1))),
                set(6, module.select(i32.lt_u(get(2), get(3)), get(2), get(3))),
                ...sameBytes(4, 5, 6, 7, "compare", (less) => module.return(module.select(less, i32.const(-1), i32.const(1)))),
                module.return(module.select(i32.lt_u(get(2), get(3)), i32.const(-1), i32.gt_u(get(2), get(3)))),
              ]),
            ),
            opa,
          ],
          b.i32,
        ),
    },
    // (param $node $key) (local $hash $i $kv $klen $elem $k $kb)
    opa_value_get: {
      vars: 7,
      body: (opa) =>
        module.block(
          null,
          [
            module.if(
              i32.and(i32.ne(get(0), i32.const(0)), i32.and(i32.eq(byte(get(0)), i32.const(OPA_OBJECT)), isString(1))),
              module.block(null, [
                set(4, load(STRING_BYTES, get(1))),
                set(5, load(STRING_LEN, get(1))),
                ...fnv(2, 4, 5, 3, "hash"),
                // The bucket: buckets[hash % n].
                set(6, load(0, i32.add(load(OBJECT_BUCKETS, get(0)), i32.shl(i32.rem_u(get(2), load(OBJECT_N, get(0))), i32.const(2))))),
                module.loop(
                  "chain",
                  module.block(null, [
                    module.if(i32.eqz(get(6)), module.return(i32.const(0))),
                    set(7, load(0, get(6))),
                    module.if(
                      i32.and(isString(7), i32.eq(load(STRING_LEN, get(7)), get(5))),
                      module.block(
                        "differ",
                        [
                          set(8, load(STRING_BYTES, get(7))),
                          ...sameBytes(4, 8, 5, 3, "bytes", () => module.br("differ")),
                          module.return(load(ELEM_V, get(6))),
                        ],
                        b.none,
                      ),
                    ),
                    set(6, load(ELEM_NEXT, get(6))),
                    module.br("chain"),
                  ]),
                ),
              ]),
            ),
            opa,
          ],
          b.i32,
        ),
    },
  };

  for (const name of FRONTED) {
    const fn = module.getFunction(name);
    if (!fn) continue;
    const info = b.getFunctionInfo(fn);
    const params = b.expandType(info.params);
    // OPA's body, kept whole under another name; it calls the fronted function by name, so its
    // own recursion (hashing an array hashes its items) goes through the front again.
    const kept = `${name}$opa`;
    module.addFunction(kept, info.params, info.results, info.vars, module.copyExpression(info.body));
    module.removeFunction(name);
    const front = fronts[name];
    const callOpa = module.return(module.call(kept, params.map((_, i) => get(i)), b.i32));
    module.addFunction(name, info.params, b.i32, Array.from({ length: front.vars }, () => b.i32), front.body(callOpa));
  }
}
