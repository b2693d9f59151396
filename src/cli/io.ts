/**
 * The CLI's edges: reading a file or stdin, and turning errors into messages and exit codes.
 * Every failure leaves with a code from src/errors.ts (docs/errors.md): the system's own errors
 * are named for what they mean here — a file that cannot be read, a port that cannot be had —
 * and anything unforeseen is `ERR_UNEXPECTED`.
 */
import { readFile } from "node:fs/promises";
import { maxThreads } from "../engine/batch/threads.js";
import { FileUnreadableError, isStepupError, ListenFailedError, UnexpectedError, UsageError, type StepupErrors } from "../errors.js";

/** Exit codes: 0 decided, 1 a check failed or the policy could not decide, 2 bad input or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function readText(path: string): Promise<string> {
  return (await readBytes(path)).toString("utf8");
}

/** A file's bytes, or stdin's for "-"; `FileUnreadableError` naming the path when it cannot be read. */
export async function readBytes(path: string): Promise<Buffer> {
  try {
    if (path === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return await readFile(path);
  } catch (err) {
    throw new FileUnreadableError(path === "-" ? "stdin" : path, describeSystemError(err as NodeJS.ErrnoException), { cause: err });
  }
}

/**
 * A thread count from the command line, bounded by the machine: more than `maxThreads()` is
 * reduced to it, with a line on stderr saying so.
 */
export function boundThreads(requested: number | undefined, flag: string): number | undefined {
  if (requested === undefined) return undefined;
  const max = maxThreads();
  if (requested <= max) return requested;
  process.stderr.write(`stepup: ${flag} ${requested} is more threads than this machine runs at once; using ${max}\n`);
  return max;
}

/**
 * Errors that mean the caller gave something wrong (an input, a flag, a file, a key), not that a
 * check failed: exit 2. Every other code exits 1. docs/errors.md lists the same set.
 */
export const USAGE_CODES: ReadonlySet<string> = new Set([
  "ERR_INPUT_INVALID",
  "ERR_INPUT_NOT_JSON",
  "ERR_CONFIG_INVALID",
  "ERR_BUNDLE_KEY_INVALID",
  "ERR_LOG_INVALID",
  "ERR_ENVOY_SETTINGS_INVALID",
  "ERR_USAGE",
  "ERR_FILE_UNREADABLE",
  "ERR_BUNDLE_NOT_FOUND",
]);

/** Prints an error for a person and gives the exit code it deserves. */
export function report(err: unknown): number {
  const error = asCliError(err);
  process.stderr.write(`stepup: ${error.code}: ${error.message}\n`);
  if ("issues" in error) for (const issue of error.issues) process.stderr.write(`  ${issue.path || "(root)"}: ${issue.message}\n`);
  return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
}

// The file system's errors, as a command meets them reading what it was given.
const FILE_ERRORS = new Set(["ENOENT", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "ELOOP", "ENAMETOOLONG", "EINVAL", "EIO"]);
const LISTEN_SYSCALLS = new Set(["listen", "bind"]);

/** A failure as one of stepup's errors: the system's own named for what they mean to a command. */
export function asCliError(err: unknown): StepupErrors {
  if (isStepupError(err)) return err;
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as NodeJS.ErrnoException & { address?: string; port?: number };
  const message = e.message ?? String(err);
  if (e.code === "ERR_SOCKET_BAD_PORT") return new UsageError(message, { cause: err });
  if (e.syscall && LISTEN_SYSCALLS.has(e.syscall)) {
    return new ListenFailedError(`${e.address ?? "(address)"}${e.port !== undefined ? `:${e.port}` : ""}`, describeSystemError(e), { cause: err });
  }
  if (e.code && FILE_ERRORS.has(e.code) && (e.path !== undefined || e.syscall !== undefined)) {
    return new FileUnreadableError(e.path ?? "(a file given)", describeSystemError(e), { cause: err });
  }
  // zlib's errors carry no path: a gzip file among those given is cut short or corrupt.
  if (typeof e.code === "string" && e.code.startsWith("Z_")) {
    return new FileUnreadableError("a gzip file given", `it is cut short or corrupt (${message})`, { cause: err });
  }
  return new UnexpectedError(message, { cause: err });
}

function describeSystemError(e: NodeJS.ErrnoException): string {
  const what: Record<string, string> = {
    ENOENT: "it does not exist",
    EISDIR: "it is a folder, not a file",
    ENOTDIR: "a part of the path is not a folder",
    EACCES: "permission denied",
    EPERM: "not permitted",
    EADDRINUSE: "the port is in use",
    EADDRNOTAVAIL: "the address is not one of this machine's",
  };
  const meaning = e.code ? what[e.code] : undefined;
  return meaning ? `${meaning} (${e.code})` : (e.message ?? String(e));
}
