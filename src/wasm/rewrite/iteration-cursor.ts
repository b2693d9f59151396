/**
 * Iterating a set or an object without hashing. OPA's `opa_value_iter(collection, prev)` gives the
 * element after `prev` (a set's value, an object's key) by hashing `prev` to find its bucket, then
 * comparing its way along the chain — so writing out a result set hashes the whole verdict once
 * more, and every step through a set of codes hashes a code. Here `opa_value_iter` gets a front that
 * remembers where the element it last gave was (the collection, the element, its bucket): asked for
 * the next one after that same value, it checks that the element is still in that bucket's chain
 * of that collection, holding that very value, and steps on from there. The answer is the one OPA's
 * body gives — an element lives only in its hash's bucket and a value appears once in a set or as an
 * object's key, so the element found is the one OPA would find — and anything else (another
 * collection, another value, a first call on an array) goes to OPA's body.
 */
import type binaryenModule from "binaryen";
import { OBJECT_ELEM_T, OBJECT_T, POINTER_BYTES, SET_ELEM_T, SET_T, TYPE } from "../layout.js";
import { addFront, hasOpaFunction } from "./front.js";
import { REWRITES, type Rewrite } from "./names.js";

type Binaryen = typeof binaryenModule;
type Module = binaryenModule.Module;
type Expression = binaryenModule.ExpressionRef;

const ITER = "opa_value_iter";
const [OPA_OBJECT, OPA_SET] = [TYPE.OBJECT, TYPE.SET];
// opa_object_t and opa_set_t share the fields the cursor reads; their elements do not.
const [BUCKETS, N] = [OBJECT_T.buckets, OBJECT_T.n];
if (SET_T.buckets !== BUCKETS || SET_T.n !== N) throw new Error("layout.ts: the cursor reads sets and objects alike");
const [OBJECT_KEY, OBJECT_NEXT, SET_VALUE, SET_NEXT] = [OBJECT_ELEM_T.k, OBJECT_ELEM_T.next, SET_ELEM_T.v, SET_ELEM_T.next];
if (OBJECT_KEY !== SET_VALUE) throw new Error("layout.ts: the cursor gives an object's key and a set's value from the same offset");
const COLLECTION = "stepup_iter_collection";
const ELEMENT = "stepup_iter_element";
const BUCKET = "stepup_iter_bucket";

/**
 * Gives `opa_value_iter` in `module` its front. A module without it is left alone; one whose
 * `opa_value_iter` has another signature than OPA's is refused. `where` names the module.
 */
export function useIterationCursor(b: Binaryen, module: Module, where: string): Rewrite[] {
  if (!hasOpaFunction(b, module, ITER, where)) return [];
  const { i32 } = module;
  // (param $node $prev) (local $next $elem $bucket $count): $next is the offset of an element's next.
  const [NODE, PREV, NEXT, ELEM, B, COUNT] = [0, 1, 2, 3, 4, 5];
  const get = (index: number) => module.local.get(index, b.i32);
  const set = (index: number, value: Expression) => module.local.set(index, value);
  const load = (offset: number, ptr: Expression) => i32.load(offset, 1, ptr);
  const global = (name: string) => module.global.get(name, b.i32);
  for (const name of [COLLECTION, ELEMENT, BUCKET]) module.addGlobal(name, b.i32, true, i32.const(0));
  const type = () => i32.load8_u(0, 1, get(NODE));
  const bucket = () => load(0, i32.add(load(BUCKETS, get(NODE)), i32.shl(get(B), i32.const(Math.log2(POINTER_BYTES)))));
  const nextOf = () => load(0, i32.add(get(ELEM), get(NEXT)));
  addFront(b, module, ITER, [b.i32, b.i32, b.i32, b.i32], (opa) => module.block(null, [
    module.block("cursor", [
      module.br("cursor", i32.or(i32.eqz(get(NODE)), i32.and(i32.ne(type(), i32.const(OPA_SET)), i32.ne(type(), i32.const(OPA_OBJECT))))),
      set(NEXT, module.if(i32.eq(type(), i32.const(OPA_SET)), i32.const(SET_NEXT), i32.const(OBJECT_NEXT))),
      set(COUNT, load(N, get(NODE))),
      module.block("step", [
        // The first element: the first of any bucket, after none.
        module.if(i32.eqz(get(PREV)), module.block(null, [set(B, i32.const(-1)), set(ELEM, i32.const(0)), module.br("step")])),
        // After the element last given, if it is still there: in its bucket's chain, with this value.
        module.br("cursor", i32.or(i32.ne(get(NODE), global(COLLECTION)), i32.ge_u(global(BUCKET), get(COUNT)))),
        set(B, global(BUCKET)),
        set(ELEM, bucket()),
        module.loop(
          "chain",
          module.if(i32.and(i32.ne(get(ELEM), i32.const(0)), i32.ne(get(ELEM), global(ELEMENT))), module.block(null, [set(ELEM, nextOf()), module.br("chain")])),
        ),
        module.br("cursor", i32.or(i32.eqz(get(ELEM)), i32.ne(load(OBJECT_KEY, get(ELEM)), get(PREV)))),
        set(ELEM, nextOf()),
      ]),
      // The next element is the chain's next, else the first of a later bucket; none after the last.
      module.loop(
        "buckets",
        module.if(
          i32.eqz(get(ELEM)),
          module.block(null, [
            set(B, i32.add(get(B), i32.const(1))),
            module.if(i32.ge_u(get(B), get(COUNT)), module.block(null, [module.global.set(COLLECTION, i32.const(0)), module.return(i32.const(0))])),
            set(ELEM, bucket()),
            module.br("buckets"),
          ]),
        ),
      ),
      module.global.set(COLLECTION, get(NODE)),
      module.global.set(ELEMENT, get(ELEM)),
      module.global.set(BUCKET, get(B)),
      // A set's element holds its value, an object's its key, at the same offset: what iterating gives.
      module.return(load(OBJECT_KEY, get(ELEM))),
    ]),
    opa,
  ]));
  return [REWRITES.iterationCursor];
}
