// Builds the CLI and the library with esbuild, and the type declarations with tsc.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { libraryEntries } from "./lazy-entry.mjs";

// The packages the SDK itself uses, bundled into its files: Node then reads, resolves and compiles
// one file where it did a hundred (zod alone is ~100 modules), and esbuild keeps only what the SDK
// uses of them (zod's locales, for one); zod goes into dist/zod.js, loaded when first used
// (scripts/lazy-entry.mjs). Every other package —
// the optional integrations, loaded on first use (src/lazy.ts), and the peer dependencies — stays
// external, resolved from node_modules as before. docs/performance.md (cold start) has the figures.
const BUNDLED = new Set(["zod", "tar", "lossless-json", "ipaddr.js", "pure-rand"]);

/** Bare imports of our own sources: bundled when listed above, external otherwise. */
const dependencies = {
  name: "dependencies",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || args.importer.includes("/node_modules/")) return undefined;
      const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

rmSync("dist", { recursive: true, force: true });
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  plugins: [dependencies],
  // The CommonJS packages bundled above call `require` for Node's own modules.
  banner: { js: 'import { createRequire as __stepupRequire } from "node:module"; const require = __stepupRequire(import.meta.url);' },
  // Whitespace, comments and redundant syntax out, names kept (stack traces and error names read
  // as in the sources; the source maps lead back to them): V8 reads the whole file when the SDK is
  // imported, and reads a third less of it.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  logLevel: "warning",
};
await build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js" });
// The library: index.js evaluates what deciding needs and stands in for the integrations, which
// load from integrations.js when first used (scripts/lazy-entry.mjs); `stepup/internal`, the
// entry point plus what benchmarks reach for (not a stable API). Shared code in dist/chunk-*.js.
const library = await libraryEntries(process.cwd());
await build({ ...common, ...library.options, entryPoints: library.entryPoints, outdir: "dist", plugins: [library.plugin, dependencies] });
// The decision pool's and the replay pool's threads (and the sinks' spool threads) load these files from next to the bundle that starts them.
await build({ ...common, entryPoints: ["src/engine/batch/pool-worker.ts"], outfile: "dist/pool-worker.js" });
await build({ ...common, entryPoints: ["src/audit/replay-worker.ts"], outfile: "dist/replay-worker.js" });
// The durable decision-log sinks' spool threads.
await build({ ...common, entryPoints: ["src/audit/spool/spool-worker.ts"], outfile: "dist/spool-worker.js" });
// `stepup/fastify`: types only (Fastify's request.stepup); an empty module for a plain import.
await build({ ...common, entryPoints: ["src/enforcement/fastify-types.ts"], outfile: "dist/fastify.js", sourcemap: false });
execFileSync("npx", ["tsc", "-p", "tsconfig.json", "--emitDeclarationOnly"], { stdio: "inherit" });
// The same declarations for CommonJS callers (`require("stepup")`, which Node 20.19+ and 22.12+
// serve from the ES module): under a package.json saying "commonjs", TypeScript reads them as
// CommonJS, so a `module: Node16` project may require the package without TS1479.
// Types from ES-module-only packages (jose, openid-client) are imported in import mode there.
cpSync("dist/types", "dist/cjs", { recursive: true });
writeFileSync("dist/cjs/package.json", `${JSON.stringify({ type: "commonjs" })}\n`);
for (const file of declarations("dist/cjs")) {
  const text = readFileSync(file, "utf8");
  const moded = text
    .replace(/^(import type [^;]* from "([^"]+)");$/gm, (line, head, spec) => (esmOnly(spec) ? `${head} with { "resolution-mode": "import" };` : line))
    .replace(/import\("([^"]+)"\)/g, (call, spec) => (esmOnly(spec) ? `import("${spec}", { with: { "resolution-mode": "import" } })` : call));
  const untyped = /^import (?!type)[^;]* from "([^"]+)";$/gm.exec(moded);
  if (untyped && esmOnly(untyped[1])) throw new Error(`${file}: a value import of the ES-module-only ${untyped[1]}`);
  if (moded !== text) writeFileSync(file, moded);
}
// The WebAssembly types the declarations name, as empty interfaces: they merge with TypeScript's
// DOM library in a project that has it and stand alone in one that does not (src/types/ has the
// fuller set the sources compile against, which would clash with the DOM library).
for (const dir of ["dist/types", "dist/cjs"]) {
  writeFileSync(join(dir, "webassembly.d.ts"), "declare namespace WebAssembly {\n  interface Module {}\n  interface Memory {}\n}\n");
  for (const entry of ["index.d.ts", "internal.d.ts"]) {
    const path = join(dir, entry);
    writeFileSync(path, `/// <reference path="./webassembly.d.ts" />\n${readFileSync(path, "utf8")}`);
  }
}

function declarations(dir) {
  return readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".d.ts")).map((f) => join(dir, f));
}

/** A package that ships only an ES module (`"type": "module"` and no `require` export). */
function esmOnly(spec) {
  if (spec.startsWith(".") || spec.startsWith("node:")) return false;
  const name = spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");
  const pkg = JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8"));
  return pkg.type === "module" && !JSON.stringify(pkg.exports ?? {}).includes('"require"');
}
