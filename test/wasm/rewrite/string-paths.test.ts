/**
 * The string fronts with the module's constant strings (src/wasm/rewrite/string-paths.ts): a string
 * OPA's parser reads that equals a constant is that constant, and a lookup by a constant finds it
 * by address. Checked on a small policy whose lookups mix every case — keys from the input, the
 * data and the policy's own objects; looked up by constants and by strings from the input; equal
 * bytes, near misses and shared buckets — against OPA's module as built, on generated inputs.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpaInstance } from "../../../src/wasm/host.js";
import { compiledBothWays, hostsWith, parsedBy } from "../../support/small-policy.js";

const POLICY = `package t

import rego.v1

direct := [input.alpha, input.beta, input.gamma.delta, data.cfg.alpha, data.cfg.beta]

dynamic := [[k, input.obj[k]] | some k in input.names]

from_data := [[k, data.cfg[k]] | some k in input.names]

built := {k: v | some k, v in input.obj}

built_get := [built.alpha, built.beta, object.get(built, "gamma", "none"), object.get(built, input.names, "none")]

members := [x | some x in input.names; x in {"alpha", "beta", "zzz", "a\\\\nb"}]

keys_of := [k | some k, _ in input.obj]

both := object.union(input.obj, data.cfg)
`;
const ENTRYPOINTS = ["t/direct", "t/dynamic", "t/from_data", "t/built_get", "t/members", "t/keys_of", "t/both"];
/**
 * The policy's constants among keys, beside near misses (same length, one byte off; a prefix;
 * longer), and a string whose JSON escapes are, as bytes, the constant `a\nb` (a backslash, then n).
 */
const NAMES = ["alpha", "beta", "gamma", "delta", "zzz", "alphb", "alph", "alphaa", "Beta", "ünï", "", "cfg", "obj", "names", "a\nb", "a\\nb"];
const DATA = { cfg: { alpha: "data-alpha", beta: 2, zzz: [1], "not-a-constant": true, alphb: "near" } };

let asBuilt: Uint8Array;
let optimized: Uint8Array;
beforeAll(async () => {
  ({ asBuilt, optimized } = await compiledBothWays(POLICY, ENTRYPOINTS));
});

/** A key: mostly from NAMES, so that inputs hit the constants and their near misses often. */
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null));
const objectOf = (value: fc.Arbitrary<unknown>) => fc.dictionary(key, value, { maxKeys: 24 });
const inputArb = fc.record({
  obj: objectOf(leaf),
  names: fc.array(key, { maxLength: 12 }),
  alpha: leaf,
  beta: leaf,
  gamma: objectOf(leaf),
  more: objectOf(objectOf(leaf)),
});

/** The type tags of each key of the object OPA's parser makes of `json`, and of its value, by key. */
function typesOf(wasm: Uint8Array, json: string): Record<string, [number, number]> {
  const { value: object, view } = parsedBy(wasm, json);
  const int = (addr: number) => view.getUint32(addr, true);
  const types: Record<string, [number, number]> = {};
  for (let bucket = 0; bucket < int(object + 8); bucket++) {
    for (let elem = int(int(object + 4) + 4 * bucket); elem !== 0; elem = int(elem + 8)) {
      const k = int(elem);
      types[new TextDecoder().decode(new Uint8Array(view.buffer, int(k + 8), int(k + 4)))] = [view.getUint8(k), view.getUint8(int(elem + 4))];
    }
  }
  return types;
}

describe("string paths with the module's constant strings", () => {
  it("gives a string it parses that equals one of the policy's constants as that constant, and leaves every other string the parser's", () => {
    const json = '{"alpha": "beta", "gamma": "alphb", "alphb": "a\\\\nb", "not-a-constant": "a\\nb"}';
    // OPA_STRING_INTERNED (8) is a constant in the module's data; OPA_STRING (4) the parser's own.
    // The third value is the constant a\nb (a backslash, then n) written with an escape, so it is
    // the parser's own; the last is a, a newline, b, whose JSON is the constant's bytes.
    expect(typesOf(optimized, json)).toEqual({ alpha: [8, 8], gamma: [8, 4], alphb: [4, 4], "not-a-constant": [4, 4] });
    expect(typesOf(asBuilt, json)).toEqual({ alpha: [4, 4], gamma: [4, 4], alphb: [4, 4], "not-a-constant": [4, 4] });
  });

  it("answers as OPA's module does for every lookup, whichever side's key is a constant", () => {
    const [before, after] = hostsWith([asBuilt, optimized], DATA) as [OpaInstance, OpaInstance];
    let compared = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const text = JSON.stringify(input);
        for (const entrypoint of ENTRYPOINTS) {
          expect(after.evaluateText(text, after.entrypoints[entrypoint]!)).toBe(before.evaluateText(text, before.entrypoints[entrypoint]!));
          compared++;
        }
      }),
      { numRuns: 400, seed: 20261129 },
    );
    expect(compared).toBe(400 * ENTRYPOINTS.length);
    // And the lookups did find things: a constant key in the input is read back.
    const [result] = after.evaluate(JSON.stringify({ alpha: "a", beta: 1, gamma: { delta: true }, obj: {}, names: [] }), after.entrypoints["t/direct"]!);
    expect(result).toEqual({ result: ["a", 1, true, "data-alpha", 2] });
  });
});
