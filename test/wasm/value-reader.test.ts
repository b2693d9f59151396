/**
 * The value reader against OPA's own JSON writer: every value a policy can answer with comes out
 * the same and in the same order, read from memory or as `opa_json_dump` writes it; strings kept
 * between evaluations are dropped when the data changes; and what the reader does not know it
 * leaves to OPA's JSON.
 */
import fc from "fast-check";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readArchive } from "../../src/bundle/archive.js";
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import { OpaInstance } from "../../src/wasm/host.js";
import { FOREIGN, ValueReader } from "../../src/wasm/value-reader.js";
import { testStepup } from "../helpers.js";

/** Compiles a small policy to wasm with the pinned OPA, one entrypoint per rule named. */
async function compile(rego: string, entrypoints: string[]): Promise<WebAssembly.Module> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-reader-"));
  try {
    await writeFile(join(dir, "policy.rego"), rego);
    const args = entrypoints.flatMap((e) => ["-e", e]);
    await runTool(opaBinary(), ["build", "-t", "wasm", ...args, "-o", join(dir, "out.tar.gz"), join(dir, "policy.rego")]);
    const files = await readArchive(await readFile(join(dir, "out.tar.gz")), "out.tar.gz");
    return new WebAssembly.Module(files.get("policy.wasm")!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const POLICY = `package t

echo := input.v

members := {v | some v in input.v}

keyed := {k: v | some k, v in input.v}

odd_keys := {1: "int", [1, "a"]: "array", {"x": 1}: "object", "s": "string"}

third := input.n / 3

big := input.n * 1e300

from_data := data.s

number_from_data := data.n
`;
const ENTRYPOINTS = ["t/echo", "t/members", "t/keyed", "t/odd_keys", "t/third", "t/big", "t/from_data", "t/number_from_data"];

/** The result set as OPA writes it and as the host reads it, both as JSON text (order counts). */
function bothWays(host: OpaInstance, entrypoint: string, input: unknown): [string, string] {
  const text = JSON.stringify(input);
  const ep = host.entrypoints[entrypoint]!;
  return [JSON.stringify(host.evaluate(text, ep)), JSON.stringify(JSON.parse(host.evaluateText(text, ep)))];
}

describe("the value reader", () => {
  it("is proven on the bundle's module, so decisions are read from memory", async () => {
    const { bundle } = await testStepup();
    expect(OpaInstance.create(new WebAssembly.Module(bundle.wasm)).readsValues).toBe(true);
  });

  it("reads every value as OPA's JSON writer writes it, in the same order", async () => {
    const host = OpaInstance.create(await compile(POLICY, ENTRYPOINTS));
    expect(host.readsValues).toBe(true);
    host.setData({ s: "from the data" });
    // Any JSON, echoed; its arrays' members as a set; its objects' members as an object built by the policy.
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        for (const entrypoint of ["t/echo", "t/members", "t/keyed"]) {
          const [read, written] = bothWays(host, entrypoint, { v });
          expect(read).toBe(written);
        }
      }),
      { numRuns: 400, seed: 20261128 },
    );
    // A key JSON.parse keeps as a key, where an assignment would set the prototype.
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    for (const entrypoint of ["t/echo", "t/keyed"]) {
      const [read, written] = bothWays(host, entrypoint, { v: proto });
      expect(read).toBe(written);
      expect(read).toContain("__proto__");
    }
    // Numbers OPA keeps as text (fractions, beyond 64 bits), and integers past 2^53.
    for (const n of [0, -0, 1, -7, 123456789, -123456789, 1234567890, 0.1, 1e-9, 1e21, 2 ** 53 + 1, -(2 ** 62), 123456789.125]) {
      for (const entrypoint of ["t/echo", "t/third", "t/big"]) {
        const [read, written] = bothWays(host, entrypoint, { v: n, n });
        expect(read, `${entrypoint} of ${n}`).toBe(written);
      }
    }
    // Object keys that are not strings: OPA's writer gives them as their JSON text; the reader leaves them to it.
    const [read, written] = bothWays(host, "t/odd_keys", {});
    expect(read).toBe(written);
    expect(JSON.parse(read)).toEqual([{ result: { "1": "int", '[1,"a"]': "array", '{"x":1}': "object", s: "string" } }]);
  });

  it("reads the data's strings and numbers once, and again after the data changes", async () => {
    const host = OpaInstance.create(await compile(POLICY, ENTRYPOINTS));
    const [s, n] = [host.entrypoints["t/from_data"]!, host.entrypoints["t/number_from_data"]!];
    host.setData({ s: "one", n: 12 });
    for (let i = 0; i < 2; i++) {
      expect(host.evaluate("{}", s)).toEqual([{ result: "one" }]);
      expect(host.evaluate("{}", n)).toEqual([{ result: 12 }]);
    }
    // The same lengths at the same addresses: what was kept would answer "one" and 12 again.
    host.setData({ s: "two", n: 34 });
    expect(host.evaluate("{}", s)).toEqual([{ result: "two" }]);
    expect(host.evaluate("{}", n)).toEqual([{ result: 34 }]);
  });

  it("answers FOREIGN for what it does not know, for the host to read as OPA's JSON", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const view = new DataView(memory.buffer);
    const reader = new ValueReader(memory);
    // An unknown type tag.
    view.setUint8(16, 42);
    expect(reader.read(16)).toBe(FOREIGN);
    // A number in a form the reader does not know (neither int nor ref).
    view.setUint8(32, 3);
    view.setUint8(33, 7);
    expect(reader.read(32)).toBe(FOREIGN);
    // A ref number whose text is not JSON.
    view.setUint8(48, 3);
    view.setUint8(49, 2);
    view.setUint32(56, 128, true);
    view.setUint32(60, 3, true);
    new Uint8Array(memory.buffer).set(new TextEncoder().encode("NaN"), 128);
    expect(reader.read(48)).toBe(FOREIGN);
    // The same text made a number is read.
    new Uint8Array(memory.buffer).set(new TextEncoder().encode("2.5"), 128);
    expect(reader.read(48)).toBe(2.5);
  });
});
