/**
 * Binaryen's optimizer over the module OPA compiles, after the rewrites of OPA's runtime. OPA's planner emits wasm without optimizing
 * it, and V8 (Node 20) does not inline one wasm function into another, so every rule's call into
 * OPA's runtime (memo, value lookups, allocation) stays a call. `wasm-opt -O2` inlines and
 * simplifies across that boundary: ~12 % off `opa_eval` for the decision policy (docs/performance.md).
 * Before that, OPA's memo is given a flat table (memo-table.ts): a quarter off what remained; and
 * OPA's lookups a front for strings, with object keys made the policy's constant strings (string-paths.ts),
 * the integers OPA's parser reads are kept as integers (parsed-integers.ts), and iterating a set
 * or an object steps on from the element it last gave instead of hashing it (iteration-cursor.ts).
 * Semantics are binaryen's to keep (traps included: no "traps never happen" assumptions), and OPA's
 * own wasm conformance cases are run on modules optimized here (test/wasm/conformance.test.ts).
 */
import { createRequire } from "node:module";
import { BundleInvalidError, ToolFailedError } from "../../errors.js";
import { LAYOUT_OPA_VERSIONS } from "../layout.js";
import { useMemoTable } from "./memo-table.js";
import { useIterationCursor } from "./iteration-cursor.js";
import type { Rewrite } from "./names.js";
import { useParsedIntegers } from "./parsed-integers.js";
import { useStringPaths } from "./string-paths.js";

/** Binaryen's optimize level (as `wasm-opt -O2`); -O3 measured no faster for this policy. */
const OPTIMIZE_LEVEL = 2;

/**
 * How far the bundle build takes OPA's module: `none` ships it as `opa build` wrote it, `o2`
 * runs binaryen's optimizer over it, `full` first applies the rewrites of OPA's runtime.
 */
export const OPTIMIZE_LEVELS = ["none", "o2", "full"] as const;
export type OptimizeLevel = (typeof OPTIMIZE_LEVELS)[number];

/** The OPA versions whose runtime the rewrites were checked against (layout.ts): the build applies them only to modules these compiled. */
export const REWRITE_OPA_VERSIONS: readonly string[] = LAYOUT_OPA_VERSIONS;

/** What the manifest records about the optimizer, e.g. "binaryen 132.0.0 -O2" (the rewrites are listed beside it). */
export function optimizerName(): string {
  const { version } = createRequire(import.meta.url)("binaryen/package.json") as { version: string };
  return `binaryen ${version} -O${OPTIMIZE_LEVEL}`;
}

/** OPA's module after the optimizer, and the rewrites of OPA's runtime applied before it (rewrite/names.ts). */
export interface Optimized {
  readonly wasm: Uint8Array;
  readonly rewrites: readonly Rewrite[];
}

/** The module with the rewrites of OPA's runtime and binaryen's optimizer: what `--optimize=full` builds. */
export async function optimizeWasm(bytes: Uint8Array, where: string): Promise<Uint8Array> {
  return (await optimize(bytes, where, { rewrites: true })).wasm;
}

/**
 * The module optimized, with the same exports (imports it no longer calls, such as the builtin
 * dispatchers of a policy that calls no JavaScript builtin, are dropped), after the rewrites of
 * OPA's runtime when `rewrites` is set. Features stay those of the MVP (what OPA's modules use),
 * so the result runs wherever OPA's own module runs; a module that needs more is refused rather
 * than optimized blind. `where` names the module in errors.
 */
export async function optimize(bytes: Uint8Array, where: string, options: { rewrites: boolean }): Promise<Optimized> {
  const exportsBefore = exportsOf(compile(bytes, where, "the wasm module"));
  const binaryen = await loadBinaryen();
  const module = binaryen.readBinary(bytes);
  let optimized: Uint8Array;
  const rewrites: Rewrite[] = [];
  try {
    module.setFeatures(binaryen.Features.MVP);
    if (!module.validate()) {
      throw new BundleInvalidError(where, "the wasm module does not validate as WebAssembly 1.0 (MVP); build without optimizing (--optimize=none)");
    }
    if (options.rewrites) {
      rewrites.push(...useMemoTable(binaryen, module, where));
      rewrites.push(...useStringPaths(binaryen, module, where));
      rewrites.push(...useParsedIntegers(binaryen, module, where));
      rewrites.push(...useIterationCursor(binaryen, module, where));
      if (!module.validate()) throw new BundleInvalidError(where, `the wasm module does not validate with the rewrites of OPA's runtime (${rewrites.join(", ")})`);
    }
    binaryen.setOptimizeLevel(OPTIMIZE_LEVEL);
    binaryen.setShrinkLevel(0);
    // The name section stays: CPU profiles of the wasm keep OPA's function names.
    binaryen.setDebugInfo(true);
    module.optimize();
    optimized = module.emitBinary();
  } finally {
    module.dispose();
  }
  // The engine that will run it judges the result: it must compile, with the same exports.
  const exportsAfter = exportsOf(compile(optimized, where, "the optimized wasm module"));
  if (exportsAfter.join() !== exportsBefore.join()) {
    throw new BundleInvalidError(where, `the optimizer changed the module's exports: ${exportsBefore.join(", ")} → ${exportsAfter.join(", ")}`);
  }
  return { wasm: optimized, rewrites };
}

function compile(bytes: Uint8Array, where: string, what: string): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (err) {
    throw new BundleInvalidError(where, `${what} does not compile: ${(err as Error).message}`, { cause: err });
  }
}

// WebAssembly.Module's static reflection, which this project's TypeScript libs leave out.
const reflect = WebAssembly.Module as unknown as { exports(module: WebAssembly.Module): { name: string; kind: string }[] };

function exportsOf(module: WebAssembly.Module): string[] {
  return reflect
    .exports(module)
    .map((e) => `${e.name}:${e.kind}`)
    .sort();
}

type Binaryen = typeof import("binaryen").default;

/**
 * binaryen, loaded on demand: ~15 MB of JavaScript (~100 MB installed) that only bundle builds
 * need, never a decision, so it is an optional peer dependency, not one every service installs.
 */
async function loadBinaryen(): Promise<Binaryen> {
  try {
    return (await import("binaryen")).default;
  } catch (err) {
    if ((err as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw err;
    throw new ToolFailedError("binaryen", "not installed: `npm install binaryen@^132` to build optimized bundles, or build with --optimize=none (--no-optimize)");
  }
}
