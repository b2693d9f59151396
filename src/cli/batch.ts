/**
 * `stepup batch`: NDJSON input documents in, one line out per input line, decided on the
 * decision pool. A line that is not JSON or breaks the input contract gets an error record in
 * its place — its line number (from 1), the error's code, the field — and the other lines are
 * decided; `--fail-fast` stops at the first bad line without output instead. The input goes to
 * the pool in pieces, each written out as soon as it is decided; a piece with a bad line is
 * decided again line by line in this thread, to find the bad lines and answer the rest.
 */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { isStepupError } from "../errors.js";
import { defaultBundlePath } from "../paths.js";
import { Stepup } from "../stepup.js";
import { EXIT, boundThreads, readBytes } from "./io.js";
import { startProgress } from "./progress.js";

/** Lines handed to the pool at a time: large enough to keep the threads busy, small enough to re-decide. */
const PIECE_BYTES = 4 * 1024 * 1024;

/** A line that could not be decided, in place of its decision. */
export interface ErrorRecord {
  readonly line: number;
  readonly error: { readonly code: string; readonly field: string | null; readonly message: string; readonly issues?: readonly { path: string; message: string }[] };
}

export function registerBatchCommand(program: Command): void {
  program
    .command("batch")
    .description("decide every input document of an NDJSON file on all cores, one line out per input line (an error record for a bad one)")
    .argument("<input>", "NDJSON file (one input document per line), or - for stdin")
    .option("-b, --bundle <path>", "bundle (.tar.gz or folder)")
    .option("-w, --workers <n>", "worker threads (default and most: one per core)", (value) => positiveInt(value, "--workers"))
    .option("--fail-fast", "stop at the first bad line, printing no decision (exit 2)")
    .action(async (file: string, opts: { bundle?: string; workers?: number; failFast?: boolean }) => {
      const stepup = await Stepup.load(opts.bundle ?? defaultBundlePath(), { onError: () => {} });
      const pool = await stepup.pool({ size: boundThreads(opts.workers, "--workers") });
      try {
        const input = await readBytes(file);
        if (opts.failFast) {
          const out = await pool.decideLines(input);
          await write(out);
          process.exitCode = failedClosed(out) ? EXIT.failed : EXIT.ok;
          return;
        }
        const progress = startProgress({ label: "deciding", total: input.length, unit: "bytes" });
        let bad: ErrorRecord[] = [];
        let anyFailed = false;
        let line = 1;
        try {
          for (let start = 0; start < input.length; ) {
            const end = pieceEnd(input, start);
            const piece = input.subarray(start, end);
            let out: Buffer;
            try {
              out = await pool.decideLines(piece);
            } catch (err) {
              if (!isStepupError(err) || (err.code !== "ERR_INPUT_INVALID" && err.code !== "ERR_INPUT_NOT_JSON")) throw err;
              const lineByLine = decideEachLine(stepup, piece, line);
              bad = bad.concat(lineByLine.bad);
              out = lineByLine.out;
            }
            anyFailed ||= failedClosed(out);
            await write(out);
            line += newlines(piece);
            start = end;
            progress.update(start);
          }
        } finally {
          progress.stop();
        }
        if (bad.length > 0) {
          const first = bad[0]!;
          process.stderr.write(
            `stepup: ${bad.length} line${bad.length === 1 ? "" : "s"} not decided (error records on stdout); the first: line ${first.line}, ${first.error.code}${first.error.field ? ` at ${first.error.field}` : ""}\n`,
          );
        }
        process.exitCode = bad.length > 0 ? EXIT.usage : anyFailed ? EXIT.failed : EXIT.ok;
      } finally {
        await pool.close();
      }
    });
}

/** Where the piece from `start` ends: after the newline that follows `start + PIECE_BYTES`, or the end. */
function pieceEnd(bytes: Buffer, start: number): number {
  if (bytes.length - start <= PIECE_BYTES) return bytes.length;
  const newline = bytes.indexOf(0x0a, start + PIECE_BYTES);
  return newline < 0 ? bytes.length : newline + 1;
}

/** Every line of a piece decided alone: a decision, or an error record naming the line. */
function decideEachLine(stepup: Stepup, piece: Buffer, first: number): { out: Buffer; bad: ErrorRecord[] } {
  const out: string[] = [];
  const bad: ErrorRecord[] = [];
  const lines = piece.toString("utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === "") continue;
    let answer: string;
    try {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw Object.assign(new Error(`not JSON: ${(err as Error).message}`), { code: "ERR_INPUT_NOT_JSON" });
      }
      answer = JSON.stringify(stepup.decide(value));
    } catch (err) {
      const record = errorRecord(first + i, err);
      bad.push(record);
      answer = JSON.stringify(record);
    }
    out.push(answer);
  }
  return { out: Buffer.from(out.length > 0 ? `${out.join("\n")}\n` : ""), bad };
}

function errorRecord(line: number, err: unknown): ErrorRecord {
  const e = err as { code?: string; message?: string; issues?: { path: string; message: string }[] };
  const issues = e.issues?.map((i) => ({ path: i.path, message: i.message }));
  return {
    line,
    error: { code: e.code ?? "ERR_INPUT_INVALID", field: issues?.[0]?.path ?? null, message: e.message ?? String(err), ...(issues ? { issues } : {}) },
  };
}

function newlines(bytes: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) n++;
  return n;
}

/** Whether a decision in the output failed closed (it then carries `error`). */
function failedClosed(out: Buffer): boolean {
  const text = out.toString("utf8");
  if (!text.includes('"error"')) return false;
  return text.split("\n").some((line) => {
    if (!line.includes('"error"')) return false;
    const answer = JSON.parse(line) as { error?: unknown; line?: unknown };
    // An error record (it has `line`) is a bad line, not a decision that failed closed.
    return answer.error !== undefined && answer.line === undefined;
  });
}

async function write(out: Uint8Array): Promise<void> {
  if (out.length === 0) return;
  if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once("drain", resolve));
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${option} takes a whole number of at least 1`);
  return n;
}
