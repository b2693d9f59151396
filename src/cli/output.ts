/**
 * How the CLI prints: `--json` (a global flag, set before each command's action) turns every
 * command's report into JSON on stdout; a reader that closes the pipe early (`| head -1`) ends
 * the command quietly with status 0 instead of an EPIPE stack trace.
 */
let json = false;

export function setJsonOutput(on: boolean): void {
  json = on;
}

/** True when the command was given `--json`. */
export function jsonOutput(): boolean {
  return json;
}

/** Prints a command's result: `value` as JSON under `--json`, otherwise the text `describe` gives. */
export function print(value: unknown, describe: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : describe());
}

/**
 * Ends the process quietly when stdout or stderr is closed by its reader (EPIPE): what was asked
 * for has been read as far as the reader wanted. Other stream errors are left to Node.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    });
  }
}
