/**
 * Fast paths for strings in OPA's runtime functions. A policy's lookups are nearly all by
 * string key (`input.device.managed` is two), and OPA's runtime takes the general road for every
 * one: `opa_value_get` hashes the key through `opa_value_hash` (a switch over every type) and walks
 * the bucket calling `opa_value_compare` on each key (two type lookups, a switch, then
 * `opa_value_compare_string` and `opa_strncmp`, each a call). After binaryen's inlining those stay
 * calls, and together they were half of `opa_eval` for the decision policy (docs/performance.md).
 *
 * Each function keeps OPA's body under a new name (`<name>$opa`, front.ts) and gets a front that handles
 * strings (OPA_STRING, or OPA_STRING_INTERNED, the same struct) itself and hands anything else to
 * OPA's body. What the fronts compute is what OPA's code computes (wasm/src/value.c, str.c):
 *   - `opa_value_hash` of a string: FNV-1a over its bytes (`fnv1a32`, 32-bit);
 *   - `opa_value_compare` of two strings: the first differing byte, unsigned, then the lengths
 *     (`opa_value_compare_string`), -1, 0 or 1;
 *   - `opa_value_get` of an object by a string key: the bucket of the key's hash modulo the
 *     bucket count, and the element whose key is a string with the same bytes — equal to OPA's
 *     `opa_value_compare(k, key) == 0` there, since a key of any other type never compares equal.
 *
 * Nearly every lookup's key is one of the policy's constant strings, which OPA's compiler writes
 * once, distinct, into the module's data (OPA_STRING_INTERNED, never freed). So, when the module
 * has them, the start function also makes a table of their hashes and one to find a constant by
 * its bytes, and OPA's JSON parser gets a front (`opa_json_parse_string`) that answers a string
 * the lexer found without escapes (ASCII: its bytes are the string's) that equals a constant with
 * that constant, allocating nothing. Keys (and string values) parsed from the input and the data
 * then are the constants the policy looks them up by: a lookup takes the key's hash from the table
 * and finds its element by address, comparing no bytes, and tells two constants apart by address.
 * Any other pair of strings is hashed and compared as above.
 */
import type binaryenModule from "binaryen";
import { BundleInvalidError } from "../../errors.js";
import { FNV32, INTERNED, JSON_TOKEN_STRING as OPA_JSON_TOKEN_STRING, OBJECT_ELEM_T, OBJECT_T, POINTER_BYTES, STRING_T, TYPE } from "../layout.js";
import { addFront, hasOpaFunction } from "./front.js";
import { REWRITES, type Rewrite } from "./names.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;
type Expression = binaryenModule.ExpressionRef;

const { OBJECT: OPA_OBJECT, STRING: OPA_STRING, STRING_INTERNED: OPA_STRING_INTERNED } = TYPE;
const [STRING_LEN, STRING_BYTES] = [STRING_T.len, STRING_T.v];
const [OBJECT_BUCKETS, OBJECT_N, ELEM_K, ELEM_V, ELEM_NEXT] = [OBJECT_T.buckets, OBJECT_T.n, OBJECT_ELEM_T.k, OBJECT_ELEM_T.v, OBJECT_ELEM_T.next];
const FNV32_INIT = FNV32.init | 0;
const FNV32_PRIME = FNV32.prime;
/** OPA's compiler writes each constant string's struct in one run, one after the other. */
const INTERNED_SIZE = INTERNED.string.size;

/** The runtime functions given a front, with OPA's signatures (binaryen types filled in later). */
const FRONTED = ["opa_value_hash", "opa_value_compare", "opa_value_get", "opa_json_parse_string"] as const;

/** The module's constant strings: the run of interned structs from `first`, `count` of them. */
interface InternedStrings {
  readonly first: number;
  readonly count: number;
}

/**
 * Gives OPA's `opa_value_hash`, `opa_value_compare` and `opa_value_get` in `module` their string
 * fronts, and `opa_json_parse_string` its front when the module's constant strings are found. A module that names none of them is left alone (a module OPA compiled always has them,
 * but a policy's runtime may be stripped of what it does not call); one whose functions have other
 * signatures than OPA's is refused. `where` names the module in errors. Returns the rewrites
 * applied: `string-paths` for the fronts, `constant-keys` for the parser's.
 */
export function useStringPaths(b: Binaryen, module: Module, where: string): Rewrite[] {
  const { i32 } = module;
  const present = FRONTED.filter((name) => hasOpaFunction(b, module, name, where));

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

  // The constant strings, when OPA's compiler wrote them as one run of distinct strings: each
  // one's hash is kept in a table made once at start-up, and the parser gives a string equal to one
  // as that constant, so that a lookup by a constant key finds its element by address.
  const interned = internedStrings(module);
  const HASHES = "stepup_string_hashes";
  const INTERNS = "stepup_string_interns";
  const slots = interned ? 2 ** Math.ceil(Math.log2(interned.count * 2)) : 0;
  /** Whether local `index` is one of the constant strings (by address: the run, end excluded). */
  const isInterned = (index: number) =>
    interned ? i32.lt_u(i32.sub(get(index), i32.const(interned.first)), i32.const(interned.count * INTERNED_SIZE)) : i32.const(0);
  /** Statements leaving in local `hash` the hash of the string at local `v`, using locals `ptr`, `len`, `i`. */
  const stringHash = (hash: number, v: number, ptr: number, len: number, i: number, label: string): Expression[] => [
    set(ptr, load(STRING_BYTES, get(v))),
    set(len, load(STRING_LEN, get(v))),
    interned
      ? module.if(isInterned(v), set(hash, load(0, i32.add(get(v), module.global.get(HASHES, b.i32)))), module.block(null, fnv(hash, ptr, len, i, label)))
      : module.block(null, fnv(hash, ptr, len, i, label)),
  ];

  const fronts: Record<(typeof FRONTED)[number], { vars: number; body: (opa: Expression) => Expression }> = {
    // (param $v) (local $hash $i $ptr $len)
    opa_value_hash: {
      vars: 4,
      body: (opa) =>
        module.block(null, [module.if(isString(0), module.block(null, [...stringHash(1, 0, 3, 4, 2, "hash"), module.return(get(1))])), opa], b.i32),
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
                module.if(i32.eq(get(0), get(1)), module.return(i32.const(0))),
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
    // (param $node $key) (local $hash $i $kv $klen $elem $k $kb $constant)
    opa_value_get: {
      vars: 8,
      body: (opa) =>
        module.block(
          null,
          [
            module.if(
              i32.and(i32.ne(get(0), i32.const(0)), i32.and(i32.eq(byte(get(0)), i32.const(OPA_OBJECT)), isString(1))),
              module.block(null, [
                ...stringHash(2, 1, 4, 5, 3, "hash"),
                set(9, isInterned(1)),
                // The bucket: buckets[hash % n], masked when n is a power of two (OPA's always are: 8, doubled).
                set(3, load(OBJECT_N, get(0))),
                set(
                  6,
                  load(0, i32.add(load(OBJECT_BUCKETS, get(0)), i32.shl(module.if(i32.eqz(i32.and(get(3), i32.sub(get(3), i32.const(1)))), i32.and(get(2), i32.sub(get(3), i32.const(1))), i32.rem_u(get(2), get(3))), i32.const(Math.log2(POINTER_BYTES))))),
                ),
                module.loop(
                  "chain",
                  module.block(null, [
                    module.if(i32.eqz(get(6)), module.return(i32.const(0))),
                    set(7, load(ELEM_K, get(6))),
                    module.if(i32.eq(get(7), get(1)), module.return(load(ELEM_V, get(6)))),
                    // Two constant strings at different addresses differ; any other pair is compared.
                    module.if(
                      i32.and(i32.eqz(i32.and(get(9), isInterned(7))), i32.and(isString(7), i32.eq(load(STRING_LEN, get(7)), get(5)))),
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
    // (param $token $buf $len) (local $hash $i $slot $c $cb): a string the lexer found without
    // escapes (OPA_JSON_TOKEN_STRING: ASCII, copied as it is) that is one of the constants is that
    // constant, found in the table of (hash, constant) pairs; any other, OPA's body allocates.
    opa_json_parse_string: {
      vars: 5,
      body: (opa) => {
        // Each use builds its own expression: binaryen's are a tree's nodes, never shared.
        const entry = () => i32.add(module.global.get(INTERNS, b.i32), i32.shl(get(5), i32.const(3)));
        return module.block(null, [
          module.if(
            i32.eq(get(0), i32.const(OPA_JSON_TOKEN_STRING)),
            module.block(null, [
              ...fnv(3, 1, 2, 4, "hash"),
              set(5, i32.and(get(3), i32.const(slots - 1))),
              module.loop(
                "probe",
                module.block(null, [
                  set(6, load(4, entry())),
                  module.if(
                    i32.ne(get(6), i32.const(0)),
                    module.block(null, [
                      module.if(
                        i32.and(i32.eq(load(0, entry()), get(3)), i32.eq(load(STRING_LEN, get(6)), get(2))),
                        module.block("differ", [set(7, load(STRING_BYTES, get(6))), ...sameBytes(1, 7, 2, 4, "bytes", () => module.br("differ")), module.return(get(6))]),
                      ),
                      set(5, i32.and(i32.add(get(5), i32.const(1)), i32.const(slots - 1))),
                      module.br("probe"),
                    ]),
                  ),
                ]),
              ),
            ]),
          ),
          opa,
        ]);
      },
    },
  };

  if (interned) {
    // The tables, made once by the start function on OPA's heap (below every host's allocations):
    // each constant's hash at its struct's address plus HASHES, and an open-addressed table of
    // (hash, struct) pairs, `slots` of them, for the parser to find a constant by its bytes.
    module.addGlobal(HASHES, b.i32, true, i32.const(0));
    module.addGlobal(INTERNS, b.i32, true, i32.const(0));
    const { first, count } = interned;
    // (local $i $key $hash $ptr $len $j $slot $table $n)
    const entry = (slot: number) => i32.add(get(7), i32.shl(get(slot), i32.const(3)));
    module.addFunction(
      "stepup_string_tables",
      b.none,
      b.none,
      Array.from({ length: 9 }, () => b.i32),
      module.block(null, [
        module.global.set(HASHES, i32.sub(module.call("opa_malloc", [i32.const(count * INTERNED_SIZE)], b.i32), i32.const(first))),
        set(7, module.call("opa_malloc", [i32.const(slots * 8)], b.i32)),
        module.global.set(INTERNS, get(7)),
        set(8, i32.const(slots)),
        ...forEachIndex(0, 8, "zero", [i32.store(4, 4, entry(0), i32.const(0))]),
        set(8, i32.const(count)),
        ...forEachIndex(0, 8, "each", [
          set(1, i32.add(i32.const(first), i32.mul(get(0), i32.const(INTERNED_SIZE)))),
          set(3, load(STRING_BYTES, get(1))),
          set(4, load(STRING_LEN, get(1))),
          ...fnv(2, 3, 4, 5, "fnv"),
          i32.store(0, 4, i32.add(get(1), module.global.get(HASHES, b.i32)), get(2)),
          // The first free slot from the hash's (the constants are distinct: none is there yet).
          set(6, i32.and(get(2), i32.const(slots - 1))),
          module.loop(
            "probe",
            module.if(i32.ne(load(4, entry(6)), i32.const(0)), module.block(null, [set(6, i32.and(i32.add(get(6), i32.const(1)), i32.const(slots - 1))), module.br("probe")])),
          ),
          i32.store(0, 4, entry(6), get(2)),
          i32.store(4, 4, entry(6), get(1)),
        ]),
      ]),
    );
  }

  // The parser is fronted only to give constants: without the constants' tables there is nothing to do.
  for (const name of present.filter((fronted) => interned || fronted !== "opa_json_parse_string")) {
    const front = fronts[name];
    addFront(b, module, name, Array.from({ length: front.vars }, () => b.i32), front.body);
  }
  if (interned) runAtStart(b, module, "stepup_string_tables", where);
  const applied: Rewrite[] = present.some((name) => name !== "opa_json_parse_string") ? [REWRITES.stringPaths] : [];
  return interned && present.includes("opa_json_parse_string") ? [...applied, REWRITES.constantKeys] : applied;
}

/**
 * The module's constant strings as OPA's compiler writes them (internal/compiler/wasm,
 * `compileStringsAndBooleans`): one data segment that starts with the strings' bytes, each
 * NUL-terminated, one after the other; then the two interned booleans (true, false); then one
 * opa_string_t per string, in the same order — OPA_STRING_INTERNED, its length, the address of
 * its bytes (layout.ts, `INTERNED`). Found only when all of that holds, so nothing else in the data can pass for it;
 * undefined when it is not there or two constants are equal (the fronts take two constants at
 * different addresses for different strings).
 */
function internedStrings(module: Module): InternedStrings | undefined {
  // Reflection the binaryen package has and its type declarations leave out.
  const segments = module as unknown as { getNumDataSegments(): number; getDataSegmentInfo(segment: number): { offset: number; data: ArrayBuffer; passive: boolean } };
  const booleans = INTERNED.booleans;
  const OPA_BOOLEAN_INTERNED = TYPE.BOOLEAN_INTERNED;
  for (let s = 0; s < segments.getNumDataSegments(); s++) {
    const { offset, data, passive } = segments.getDataSegmentInfo(module.getDataSegmentByIndex(s));
    if (passive) continue;
    const bytes = new Uint8Array(data);
    const view = new DataView(data);
    // Walk the structs after each place the booleans could be, each string's bytes following the last's.
    for (let at = bytes.indexOf(OPA_BOOLEAN_INTERNED); at >= 0; at = bytes.indexOf(OPA_BOOLEAN_INTERNED, at + 1)) {
      if (booleans.some((value, i) => bytes[at + i] !== value)) continue;
      const first = at + booleans.length;
      const texts = new Set<string>();
      let next = 0;
      let count = 0;
      for (let rec = first; rec + INTERNED_SIZE <= bytes.length; rec += INTERNED_SIZE, count++) {
        const len = view.getUint32(rec + STRING_LEN, true);
        const start = view.getUint32(rec + STRING_BYTES, true) - offset;
        // The tag as a 16-bit field (so `free` is 0), then padding up to `len`.
        if (view.getUint16(rec + STRING_T.hdr, true) !== OPA_STRING_INTERNED || view.getUint16(rec + 2, true) !== 0 || start !== next || next + len >= at || bytes[next + len] !== 0) break;
        texts.add(Buffer.from(bytes.subarray(start, start + len)).toString("latin1"));
        next = start + len + 1;
      }
      if (count === 0 || next !== at) continue;
      return texts.size === count ? { first: offset + first, count } : undefined;
    }
  }
  return undefined;
}

/** Makes the module's start function call `name` (no arguments, no result) after what it does. */
function runAtStart(b: Binaryen, module: Module, name: string, where: string): void {
  const start = module.getStart();
  if (!start) throw new BundleInvalidError(where, "it has no start function, which OPA's compiler always writes; build without the rewrites (--optimize=o2)");
  const info = b.getFunctionInfo(start);
  const body = module.block(null, [module.copyExpression(info.body), module.call(name, [], b.none)]);
  module.removeFunction(info.name);
  module.setStart(module.addFunction(info.name, info.params, info.results, info.vars, body));
}
