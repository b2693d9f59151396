/** Running the pinned OPA CLI, for building bundles and for checks that need OPA itself. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { ToolFailedError } from "../errors.js";
import { packageRoot } from "../paths.js";

/**
 * The OPA binary: $STEPUP_OPA, else the project's pinned one in .tools/bin (installed by
 * `make setup`), else `opa` on the PATH.
 */
export function opaBinary(): string {
  if (process.env.STEPUP_OPA) return process.env.STEPUP_OPA;
  const pinned = `${packageRoot()}.tools/bin/opa`;
  return existsSync(pinned) ? pinned : "opa";
}

export interface RunOptions {
  readonly cwd?: string;
  readonly stdin?: string;
}

export function runTool(binary: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      args,
      { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) reject(new ToolFailedError(`${binary} ${args[0] ?? ""}`.trim(), (stderr || err.message).trim()));
        else resolve(stdout);
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
