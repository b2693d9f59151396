/** Running the pinned OPA CLI, for building bundles and for checks that need OPA itself. */
import { existsSync } from "node:fs";
import { ToolFailedError, ToolVersionError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { childProcess } from "../lazy.js";

/**
 * The OPA binary: $STEPUP_OPA, else the project's pinned one in .tools/bin (installed by
 * `make setup`), else `opa` on the PATH.
 */
export function opaBinary(): string {
  if (process.env.STEPUP_OPA) return process.env.STEPUP_OPA;
  const pinned = `${packageRoot()}.tools/bin/opa`;
  return existsSync(pinned) ? pinned : "opa";
}

/**
 * The OPA version this stepup builds bundles with (scripts/install-tools.sh installs it; a test
 * keeps the two in step), as `opa version` prints it.
 */
export const PINNED_OPA_VERSION = "1.22.3";

/** The version of the OPA binary, as `opa version` prints it ("1.22.3"). */
export async function opaVersion(opa: string): Promise<string> {
  const out = await runTool(opa, ["version"]);
  const version = /^Version:\s*v?(\S+)\s*$/m.exec(out)?.[1];
  if (!version) throw new ToolFailedError(`${opa} version`, `no version in its answer: ${out.slice(0, 200)}`);
  return version;
}

/**
 * The version of the OPA binary, checked against the pinned one: another is refused with
 * `ToolVersionError` unless `allowOther` is set.
 */
export async function checkedOpaVersion(opa: string, allowOther = false): Promise<string> {
  const version = await opaVersion(opa);
  if (version !== PINNED_OPA_VERSION && !allowOther) throw new ToolVersionError(opa, version, PINNED_OPA_VERSION);
  return version;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly stdin?: string;
}

export function runTool(binary: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = childProcess().execFile(
      binary,
      args,
      { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
          // No binary there: say how to provide one, since an installed package has no .tools/bin.
          const how = `not found; install OPA ${PINNED_OPA_VERSION} and put it on the PATH, or name it with $STEPUP_OPA`;
          reject(new ToolFailedError(`${binary} ${args[0] ?? ""}`.trim(), how));
        } else if (err) reject(new ToolFailedError(`${binary} ${args[0] ?? ""}`.trim(), (stderr || err.message).trim()));
        else resolve(stdout);
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
