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
  // The CLI, the library and the pools' worker scripts, as scripts/build.mjs lays out dist/.
  await build({
    entryPoints: {
      cli: "src/cli/main.ts",
      index: "src/index.ts",
      internal: "src/internal.ts",
      "pool-worker": "src/engine/batch/pool-worker.ts",
      "replay-worker": "src/audit/replay-worker.ts",
      "spool-worker": "src/audit/spool/spool-worker.ts",
    },
    outdir: join(".tools", "test-build"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  project.provide("bundlePath", bundlePath);
  project.provide("cliPath", cliPath);
  project.provide("libPath", join(".tools", "test-build", "index.js"));
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
