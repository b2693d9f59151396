/**
 * Integers OPA's parser reads, kept as integers (src/wasm/rewrite/parsed-integers.ts): a number whose
 * text is a canonical integer within 32 bits becomes OPA's integer, every other stays its text,
 * and nothing a policy computes or OPA writes out changes — checked against OPA's module as
 * built on generated JSON whose numbers are written in every form JSON allows.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpaInstance } from "../../../src/wasm/host.js";
import { compiledBothWays, hostsWith, parsedBy } from "../../support/small-policy.js";

const POLICY = `package t

import rego.v1

echo := input

sorted := sort(input.v)

as_set := {x | some x in input.v}

keyed := {x: true | some x in input.v}

plus_one := [y | some x in input.v; y := x + 1]

below := [b | some x in input.v; b := x < input.t]

same := [b | some x in input.v; b := x == input.t]

indexed := [input.v[i] | some i in input.v]
`;
const ENTRYPOINTS = ["t/echo", "t/sorted", "t/as_set", "t/keyed", "t/plus_one", "t/below", "t/same", "t/indexed"];

/** Number texts in every form JSON allows, around the edges of what becomes an integer. */
const NUMBERS = [
  "0", "-0", "7", "-7", "10", "-10", "3", "1.0", "0.0", "-0.0", "1e3", "1E3", "1e+3", "-1.5e-3", "0.5",
  "2147483647", "-2147483648", "2147483648", "-2147483649", "4294967296", "9999999999", "10000000000",
  "999999999999999999", "-999999999999999999", "1000000000000000000", "-1000000000000000000",
  "9223372036854775807", "-9223372036854775808", "12345678901234567890", "9007199254740993",
];
const number = fc.oneof(fc.constantFrom(...NUMBERS), fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)));
/** An input as JSON text, so that each number keeps the text it was given. */
const inputText = fc
  .record({ v: fc.array(number, { maxLength: 10 }), t: number })
  .map(({ v, t }) => `{"v": [${v.join(", ")}], "t": ${t}}`);

let asBuilt: Uint8Array;
let optimized: Uint8Array;
beforeAll(async () => {
  ({ asBuilt, optimized } = await compiledBothWays(POLICY, ENTRYPOINTS));
});

/** The representation (1 integer, 2 text) of each number of the array OPA's parser makes of `json`. */
function representations(wasm: Uint8Array, json: string): number[] {
  const { value: array, view } = parsedBy(wasm, json);
  const int = (addr: number) => view.getUint32(addr, true);
  // opa_array_t { hdr; elems @4; len @8 }, each element { i; v }.
  return Array.from({ length: int(array + 8) }, (_, i) => view.getUint8(int(int(array + 4) + 8 * i + 4) + 1));
}

describe("integers OPA's parser reads", () => {
  it("are OPA's integers when their text is a canonical integer within 32 bits, and text otherwise", () => {
    const json = "[0, 12, -12, 2147483647, -2147483648, -0, 1.0, 1e3, 0.5, 2147483648, -2147483649, 999999999999999999]";
    expect(representations(optimized, json)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
    expect(representations(asBuilt, json)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it("change nothing a policy computes or OPA writes out", () => {
    const [before, after] = hostsWith([asBuilt, optimized], {}) as [OpaInstance, OpaInstance];
    let compared = 0;
    fc.assert(
      fc.property(inputText, (text) => {
        for (const entrypoint of ENTRYPOINTS) {
          expect(after.evaluateText(text, after.entrypoints[entrypoint]!)).toBe(before.evaluateText(text, before.entrypoints[entrypoint]!));
          compared++;
        }
      }),
      { numRuns: 300, seed: 20261129 },
    );
    expect(compared).toBe(300 * ENTRYPOINTS.length);
  });
});
