/**
 * OPA's own WebAssembly conformance cases, run on our host. The cases (v1/test/wasm/assets in the
 * pinned OPA module) are compiled by OPA's generator at the pinned version, exactly as OPA's wasm
 * runner (assets/test.js) gets them, and judged by the same rules: want_defined, want_result in
 * any order, or want_error as a substring of the abort message. Cases OPA marks `skip` are not run
 * and are counted. The bundle builder optimizes OPA's module with binaryen (src/wasm/rewrite/optimize.ts),
 * so every case runs on the module as OPA's generator compiled it, and optimized; and each of them
 * two ways: as decisions are evaluated with the fast paths, the result read from the module's memory
 * (src/wasm/value-reader.ts), and on OPA's stock path (`fastPaths: false`), the input as JSON text
 * and `opa_eval`'s JSON result.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { readArchive } from "../../src/bundle/archive.js";
import { OpaInstance } from "../../src/wasm/host.js";
import { optimizeAll } from "../support/optimizer-pool.js";

interface Case {
  note: string;
  wasm: string;
  data?: unknown;
  input?: unknown;
  want_defined?: boolean;
  want_result?: unknown[];
  want_error?: string;
  skip?: boolean;
}

const OPA_VERSION = /^OPA_VERSION=(v[\d.]+)$/m.exec(readFileSync("scripts/install-tools.sh", "utf8"))?.[1];
if (!OPA_VERSION) throw new Error("no OPA_VERSION in scripts/install-tools.sh");
const assets = join(execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim(), `github.com/open-policy-agent/opa@${OPA_VERSION}`, "v1/test/wasm/assets");

/** The cases by file, compiled now by OPA's generator (about ten seconds). */
async function compileCases(): Promise<Map<string, Case[]>> {
  const dir = mkdtempSync(join(tmpdir(), "stepup-wasm-cases-"));
  try {
    const out = join(dir, "cases.tar.gz");
    execFileSync(".tools/bin/wasm-rego-testgen", ["--input-dir", assets, "--runner", join(assets, "test.js"), "--output", out], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const files = await readArchive(readFileSync(out), out, { maxCompressedBytes: 256 << 20, maxUncompressedBytes: 1 << 30, maxFiles: 1000 });
    const cases = new Map<string, Case[]>();
    for (const [name, bytes] of files) {
      if (name.endsWith(".json")) cases.set(name, (JSON.parse(Buffer.from(bytes).toString("utf8")) as { cases: Case[] }).cases);
    }
    return cases;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The custom builtins OPA's generator declares, implemented as its runner implements them.
let memoized = false;
const builtins = {
  custom_builtin_test: (a: unknown) => (a as number) + 1,
  custom_builtin_test_impure: () => "foo",
  custom_builtin_test_memoization: () => {
    if (memoized) throw new Error("should have been memoized");
    memoized = true;
    return 100;
  },
};

/** How a case is evaluated: as decisions are with the fast paths, or on OPA's stock path. */
type Path = "fast" | "stock";

/** Runs one case on a module (OPA's, or optimized); returns why it failed, or undefined when it passed. */
function run(c: Case, wasm: Uint8Array, path: Path): string | undefined {
  // Memoization is per evaluation: each case starts with the builtin not yet called.
  memoized = false;
  let resultSet: unknown[];
  try {
    const instance = OpaInstance.create(new WebAssembly.Module(wasm), { builtins, valueReader: path === "fast" });
    // With the fast paths, results are read from memory (value-reader.ts), which every module must agree with first.
    if (path === "fast" && !instance.readsValues) return "the value reader was not proven on this module";
    if (c.data !== undefined) instance.setData(c.data);
    const input = c.input === undefined ? undefined : JSON.stringify(c.input);
    resultSet = path === "fast" ? instance.evaluate(input, 0) : (JSON.parse(instance.evaluateText(input, 0)) as unknown[]);
  } catch (err) {
    const message = (err as Error).message;
    if (c.want_error !== undefined && message.includes(c.want_error)) return undefined;
    return `error ${message}${c.want_error === undefined ? "" : ` (want ${c.want_error})`}`;
  }
  if (c.want_error !== undefined) return `want error ${c.want_error}, got ${JSON.stringify(resultSet)}`;
  if (c.want_defined !== undefined && c.want_defined !== resultSet.length > 0) {
    return `want ${c.want_defined ? "defined" : "undefined"}, got ${JSON.stringify(resultSet)}`;
  }
  const want = c.want_result;
  if (want !== undefined && (want.length !== resultSet.length || !want.every((w) => resultSet.some((r) => isDeepStrictEqual(w, r))))) {
    return `want ${JSON.stringify(want)}, got ${JSON.stringify(resultSet)}`;
  }
  return undefined;
}

const cases = await compileCases();
const files = [...cases].sort(([a], [b]) => (a < b ? -1 : 1));
const modules = new Map<string, Uint8Array>();
for (const [, list] of files) for (const c of list) if (c.skip !== true) modules.set(c.wasm, Buffer.from(c.wasm, "base64"));

function check(wasmOf: (c: Case) => Uint8Array, path: Path) {
  for (const [file, list] of files) {
    const skipped = list.filter((c) => c.skip === true).length;
    it(`${file}: ${list.length - skipped} cases pass${skipped > 0 ? ` (${skipped} marked skip by OPA)` : ""}, ${path} path`, () => {
      const failures = list
        .filter((c) => c.skip !== true)
        .map((c) => [c.note, run(c, wasmOf(c), path)] as const)
        .filter(([, why]) => why !== undefined);
      expect(failures).toEqual([]);
    });
  }
}

describe(`OPA ${OPA_VERSION} wasm conformance cases on our host`, () => {
  it("has the cases", () => {
    expect(cases.size).toBeGreaterThanOrEqual(19);
    expect(modules.size).toBeGreaterThanOrEqual(300);
  });
  check((c) => modules.get(c.wasm)!, "fast");
  check((c) => modules.get(c.wasm)!, "stock");
});

describe(`the same cases on modules optimized as bundles are (binaryen)`, () => {
  const optimized = new Map<string, Uint8Array>();
  // About a second per module per core: hundreds of modules.
  beforeAll(async () => {
    const keys = [...modules.keys()];
    const out = await optimizeAll(keys.map((k) => modules.get(k)!));
    keys.forEach((k, i) => optimized.set(k, out[i]!));
  }, 900_000);

  it("optimized every module, each different from OPA's", () => {
    expect(optimized.size).toBe(modules.size);
    for (const [k, bytes] of optimized) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(modules.get(k)!))).not.toBe(0);
  });
  check((c) => optimized.get(c.wasm)!, "fast");
  check((c) => optimized.get(c.wasm)!, "stock");
});
