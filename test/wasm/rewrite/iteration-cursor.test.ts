/**
 * Iterating sets and objects from where the last step was (src/wasm/rewrite/iteration-cursor.ts): every
 * iteration a policy makes — nested over the same collection, an inner one stopped early while the
 * outer goes on, over sets of sets and objects, written out — gives OPA's module's results, in OPA's order, on generated inputs.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpaInstance } from "../../../src/wasm/host.js";
import { compiledBothWays, hostsWith } from "../../support/small-policy.js";

const POLICY = `package t

import rego.v1

s := {x | some x in input.v}

o := {k: v | some k, v in input.o}

pairs := [[a, b] | some a in s; some b in s]

keys := [k | some k, _ in o]

nested := [[k, x] | some k, _ in o; some x in s; some y in o[k]]

found if {
	some x in s
	x == input.t
}

# every stops its scan of s at the first counterexample, while the outer scan of s goes on.
alone := [x | some x in s; every y in s { y == x }]

early := [x | some x in s; every y in s { y != input.t }]

sets := {{x, y} | some x in s; some y in s}

flattened := [y | some z in sets; some y in z]

objects := {{"a": x, "b": k} | some x in s; some k, _ in o}

echo := [s, o, sets, objects]
`;
const ENTRYPOINTS = ["t/pairs", "t/keys", "t/nested", "t/found", "t/alone", "t/early", "t/flattened", "t/echo"];

const leaf = fc.oneof(fc.integer({ min: -5, max: 40 }), fc.constantFrom("a", "b", "device.unmanaged", "zz", ""), fc.boolean(), fc.constant(null));
const value = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) });
const inputArb = fc.record({
  v: fc.array(value, { maxLength: 14 }),
  o: fc.dictionary(fc.string({ maxLength: 4 }), fc.array(leaf, { maxLength: 3 }), { maxKeys: 12 }),
  t: leaf,
});

let asBuilt: Uint8Array;
let optimized: Uint8Array;
beforeAll(async () => {
  ({ asBuilt, optimized } = await compiledBothWays(POLICY, ENTRYPOINTS));
});

describe("iterating from where the last step was", () => {
  it("gives OPA's module's results, in its order, for every kind of iteration", () => {
    const [before, after] = hostsWith([asBuilt, optimized], {}) as [OpaInstance, OpaInstance];
    let compared = 0;
    let nonEmpty = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const text = JSON.stringify(input);
        for (const entrypoint of ENTRYPOINTS) {
          const expected = before.evaluateText(text, before.entrypoints[entrypoint]!);
          expect(after.evaluateText(text, after.entrypoints[entrypoint]!)).toBe(expected);
          compared++;
          if (entrypoint === "t/nested" && expected.length > 20) nonEmpty++;
        }
      }),
      { numRuns: 300, seed: 20261129 },
    );
    expect(compared).toBe(300 * ENTRYPOINTS.length);
    // The nested iterations did run: most inputs give them something to iterate.
    expect(nonEmpty).toBeGreaterThan(100);
  });
});
