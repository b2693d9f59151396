/**
 * Integers OPA's JSON parser reads, kept as integers. OPA's parser keeps every number as its text
 * (a "ref": `opa_number_ref_allocated`), so each comparison of two numbers from the input or the
 * data parses both texts again (`opa_number_try_int`, then `opa_atoi64`) and each hash converts one
 * to a double from its text. OPA's own integers (`opa_number_int`, what its arithmetic gives) skip
 * that. Here `opa_number_ref_allocated` gets a front that gives a number whose text is an integer
 * in canonical form — an optional minus, then `0` alone (not `-0`) or a non-zero digit and more —
 * within 32 bits as that integer. The value is the same number and OPA writes it as the same text
 * (its JSON of an integer is its digits), so nothing a policy or a host can see changes; any other
 * text (a fraction, an exponent, `-0`, a larger integer) stays a ref, by OPA's own body.
 *
 * Why 32 bits: OPA's runtime turns an integer outside them into a decimal for arithmetic with
 * `snprintf("%d")` of a 64-bit value (wasm/src/mpd.c, `opa_number_to_bf`), which keeps only its low
 * 32 bits, so 999999999999999999 + 1 would come out wrong; a ref takes the exact road.
 */
import type binaryenModule from "binaryen";
import { addFront, hasOpaFunction } from "./front.js";
import { REWRITES, type Rewrite } from "./names.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;

const REF = "opa_number_ref_allocated";
const INT = "opa_number_int";
/** Digits at most (2^31 has 10), and the largest magnitudes of a 32-bit integer. */
const MAX_DIGITS = 10;
const MAX_POSITIVE = 2n ** 31n - 1n;
const MAX_NEGATIVE = 2n ** 31n;
const MINUS = 0x2d;
const ZERO = 0x30;

/**
 * Gives `opa_number_ref_allocated` its front in `module`. A module without it or without
 * `opa_number_int` is left alone; one whose functions have other signatures than OPA's
 * (`opa_value *(char *, size_t)`, `opa_value *(long long)`) is refused. `where` names the module.
 */
export function useParsedIntegers(b: Binaryen, module: Module, where: string): Rewrite[] {
  if (!hasOpaFunction(b, module, REF, where) || !hasOpaFunction(b, module, INT, where)) return [];
  const { i32, i64 } = module;
  // (param $s $len) (local $i i32) (local $c i32) (local $v i64)
  const [S, LEN, I, C, V] = [0, 1, 2, 3, 4];
  const get = (index: number) => module.local.get(index, index === V ? b.i64 : b.i32);
  const set = (index: number, value: number) => module.local.set(index, value);
  const byteAt = (index: number) => i32.load8_u(0, 1, i32.add(get(S), get(index)));
  const negative = () => i32.eq(i32.load8_u(0, 1, get(S)), i32.const(MINUS));
  addFront(b, module, REF, [b.i32, b.i32, b.i64], (opa) => module.block(null, [
    module.block("ref", [
      // After an optional minus, 1 to MAX_DIGITS characters.
      set(I, module.if(i32.and(i32.ne(get(LEN), i32.const(0)), negative()), i32.const(1), i32.const(0))),
      module.br("ref", i32.ge_u(i32.sub(i32.sub(get(LEN), get(I)), i32.const(1)), i32.const(MAX_DIGITS))),
      // A leading zero only as "0" itself ("-0" keeps its sign as text).
      module.if(i32.eq(byteAt(I), i32.const(ZERO)), module.block(null, [module.br("ref", i32.ne(get(LEN), i32.const(1))), module.return(module.call(INT, [i64.const(0n)], b.i32))])),
      module.loop(
        "digits",
        module.if(
          i32.lt_u(get(I), get(LEN)),
          module.block(null, [
            set(C, i32.sub(byteAt(I), i32.const(ZERO))),
            module.br("ref", i32.gt_u(get(C), i32.const(9))),
            set(V, i64.add(i64.mul(get(V), i64.const(10n)), i64.extend_u(get(C)))),
            set(I, i32.add(get(I), i32.const(1))),
            module.br("digits"),
          ]),
        ),
      ),
      module.br("ref", i64.gt_u(get(V), module.if(negative(), i64.const(MAX_NEGATIVE), i64.const(MAX_POSITIVE)))),
      module.return(module.call(INT, [module.if(negative(), i64.sub(i64.const(0n), get(V)), get(V))], b.i32)),
    ]),
    opa,
  ]));
  return [REWRITES.parsedIntegers];
}
