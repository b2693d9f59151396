// Builds the CLI and the library with esbuild, and the type declarations with tsc.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
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
