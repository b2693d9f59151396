/**
 * Builds what the suites need from the current sources, so a test never runs against a stale
 * bundle or CLI: the bundle from rego/ (with the pinned OPA), and the CLI and library bundled by esbuild.
 */
import { build } from "esbuild";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildBundle } from "../../src/bundle/build.js";
import { libraryEntries } from "../../scripts/lazy-entry.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    bundlePath: string;
    cliPath: string;
    libPath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "stepup-test-"));
  const bundlePath = join(dir, "stepup.tar.gz");
  await buildBundle({ regoDir: "rego", out: bundlePath, revision: "test-revision" });
  // Inside the project, so the CLI's imports resolve to node_modules as they do from dist/.
  const cliPath = join(".tools", "test-build", "cli.js");
  // The CLI, the library and the pools' worker scripts, as scripts/build.mjs lays out dist/: the
  // library's entry split (scripts/lazy-entry.mjs), the others whole.
  const outdir = join(".tools", "test-build");
  const common = { outdir, bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "warning" } as const;
  await rm(outdir, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: {
      cli: "src/cli/main.ts",
      "pool-worker": "src/engine/batch/pool-worker.ts",
      "replay-worker": "src/audit/replay-worker.ts",
      "spool-worker": "src/audit/spool/spool-worker.ts",
    },
  });
  const library = await libraryEntries(process.cwd());
  await build({ ...common, ...library.options, entryPoints: library.entryPoints, plugins: [library.plugin] });
  project.provide("bundlePath", bundlePath);
  project.provide("cliPath", cliPath);
  project.provide("libPath", join(".tools", "test-build", "index.js"));
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
