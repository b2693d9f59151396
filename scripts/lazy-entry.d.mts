// Declarations of scripts/lazy-entry.mjs, for the suites' build (test/setup/global.ts).
import type { BuildOptions, Plugin } from "esbuild";

/** The esbuild entry points, options and plugin that build the library's split entry into one folder. */
export function libraryEntries(root: string): Promise<{
  readonly entryPoints: { in: string; out: string }[];
  readonly plugin: Plugin;
  /** The exports that are stand-ins, loaded from integrations.js on first use. */
  readonly lazy: ReadonlySet<string>;
  readonly options: Pick<BuildOptions, "splitting" | "chunkNames">;
}>;
