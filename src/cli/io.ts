/** The CLI's edges: reading a file or stdin, and turning errors into messages and exit codes. */
import { readFile } from "node:fs/promises";
import { isStepupError } from "../errors.js";

/** Exit codes: 0 decided, 1 a check failed or the policy could not decide, 2 bad input or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function readText(path: string): Promise<string> {
  return (await readBytes(path)).toString("utf8");
}

/** A file's bytes, or stdin's for "-". */
export async function readBytes(path: string): Promise<Buffer> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  return readFile(path);
}

/** Errors that mean the caller gave something wrong (an input, a flag, a key file), not that a check failed. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  "ERR_INPUT_INVALID",
  "ERR_INPUT_NOT_JSON",
  "ERR_CONFIG_INVALID",
  "ERR_BUNDLE_KEY_INVALID",
  "ERR_LOG_INVALID",
  "ERR_ENVOY_SETTINGS_INVALID",
]);

/** Prints an error for a person and gives the exit code it deserves. */
export function report(err: unknown): number {
  if (isStepupError(err)) {
    process.stderr.write(`stepup: ${err.code}: ${err.message}\n`);
    if (err.code === "ERR_INPUT_INVALID" || err.code === "ERR_CONFIG_INVALID" || err.code === "ERR_LOG_INVALID" || err.code === "ERR_ENVOY_SETTINGS_INVALID") {
      for (const issue of err.issues) process.stderr.write(`  ${issue.path || "(root)"}: ${issue.message}\n`);
    }
    return USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.failed;
  }
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`stepup: ${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}\n`);
  return e.code === "ENOENT" ? EXIT.usage : EXIT.failed;
}
