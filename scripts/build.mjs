// Builds the CLI and the library with esbuild, and the type declarations with tsc.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

// The packages every import of the SDK evaluates, bundled into its files: Node then reads, resolves
// and compiles one file where it did a hundred (zod alone is ~100 modules, ajv as many), and
// esbuild keeps only what the SDK uses of them (zod's locales, for one). Every other package —
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
  sourcemap: true,
  logLevel: "warning",
};
await build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js" });
await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" });
// The decision pool's and the replay pool's threads (and the sinks' spool threads) load these files from next to the bundle that starts them.
await build({ ...common, entryPoints: ["src/engine/batch/pool-worker.ts"], outfile: "dist/pool-worker.js" });
await build({ ...common, entryPoints: ["src/audit/replay-worker.ts"], outfile: "dist/replay-worker.js" });
// The durable decision-log sinks' spool threads.
await build({ ...common, entryPoints: ["src/audit/spool/spool-worker.ts"], outfile: "dist/spool-worker.js" });
execFileSync("npx", ["tsc", "-p", "tsconfig.json", "--emitDeclarationOnly"], { stdio: "inherit" });
