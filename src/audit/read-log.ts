/**
 * Reading decision logs back, in every form OPA or stepup writes them: NDJSON files as the file
 * sink writes them (rotated ones too), console logs (OPA's and stepup's: each event inside a log
 * record, among other log lines), and OPA's uploads (a JSON array of events per line, or a
 * collector's saved request bodies, gzip-compressed). Gzip is recognised by its magic bytes, so a
 * saved body needs no `.gz` name. The wrapper fields a writer adds around an event (`level`,
 * `msg`, `time`, `type`) are left out, and a console's other log lines are skipped; every event
 * is validated against the event schema, and a line that is neither fails with `ERR_LOG_INVALID`
 * naming the file, the line and the field.
 */
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DecisionLogRecordSchema, type DecisionLogEvent } from "../contracts/decision-log.js";
import { toIssues } from "../contracts/issues.js";
import { LogInvalidError } from "../errors.js";

/** The files behind the paths given: a folder stands for every file in it. `-` is stdin. */
export async function expandLogPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path !== "-" && (await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((n) => !n.startsWith(".")).sort();
      for (const name of names) if ((await stat(join(path, name))).isFile()) files.push(join(path, name));
    } else files.push(path);
  }
  return files;
}

/** Whole lines of one log file as UTF-8 bytes, and the number of the first of them (from 1). */
export interface LogChunk {
  readonly file: string;
  readonly first: number;
  readonly bytes: Uint8Array;
}

/** Every event of the logs, in file order; validated. */
export async function* readLogEvents(paths: readonly string[]): AsyncGenerator<DecisionLogEvent> {
  for await (const chunk of readLogChunks(paths)) yield* parseLogChunk(chunk);
}

/**
 * The logs as runs of whole lines, in file order, each at least `minBytes` long but for a file's
 * last: the unit that replay hands to a thread. Lines are not parsed here.
 */
export async function* readLogChunks(paths: readonly string[], minBytes = 64 * 1024): AsyncGenerator<LogChunk> {
  for (const file of await expandLogPaths(paths)) yield* chunksOf(file, minBytes);
}

const NEWLINE = 0x0a;

async function* chunksOf(file: string, minBytes: number): AsyncGenerator<LogChunk> {
  let stream: Readable = file === "-" ? process.stdin : createReadStream(file);
  if (file.endsWith(".gz") || (file !== "-" && gzipped(file))) stream = stream.pipe(createGunzip());
  // Pieces read since the last chunk; they are joined only when a chunk is due.
  let pieces: Buffer[] = [];
  let pending = 0;
  let line = 1;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    pieces.push(piece);
    pending += piece.length;
    if (pending < minBytes || piece.lastIndexOf(NEWLINE) < 0) continue;
    const joined = Buffer.concat(pieces, pending);
    const end = joined.lastIndexOf(NEWLINE) + 1;
    // A copy of the rest, so that the chunk owns its memory alone and can be handed to a thread.
    const rest = Buffer.from(joined.subarray(end));
    yield { file, first: line, bytes: joined.subarray(0, end) };
    line += countLines(joined, end);
    pieces = rest.length > 0 ? [rest] : [];
    pending = rest.length;
  }
  if (pending > 0) yield { file, first: line, bytes: Buffer.concat(pieces, pending) };
}

/** Whether a file starts with gzip's magic bytes. */
function gzipped(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function countLines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let at = bytes.indexOf(NEWLINE); at >= 0 && at < end; at = bytes.indexOf(NEWLINE, at + 1)) n++;
  return n;
}

const decoder = new TextDecoder();

/**
 * A console's log line that is not a decision: OPA's server logs ("Initializing server.", …) and
 * stepup's notices carry `level` and `msg` and no `decision_id`.
 */
function otherLogLine(item: unknown): boolean {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return false;
  const record = item as Record<string, unknown>;
  return typeof record.level === "string" && typeof record.msg === "string" && record.decision_id === undefined;
}

/**
 * The events of a chunk, validated, in order. A line may hold one event or an array of them;
 * blank lines are skipped; a line that is not an event throws `ERR_LOG_INVALID` naming the file,
 * the line and the field.
 */
export function* parseLogChunk(chunk: LogChunk): Generator<DecisionLogEvent> {
  const lines = decoder.decode(chunk.bytes).split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    const n = chunk.first + i;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new LogInvalidError(chunk.file, n, [{ path: "", message: "not JSON" }]);
    }
    for (const [j, item] of (Array.isArray(value) ? value : [value]).entries()) {
      if (otherLogLine(item)) continue;
      const parsed = DecisionLogRecordSchema.safeParse(item);
      if (!parsed.success) throw new LogInvalidError(chunk.file, n, toIssues(parsed.error, Array.isArray(value) ? `[${j}]` : ""));
      yield parsed.data;
    }
  }
}
