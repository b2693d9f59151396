/**
 * Reading decision logs back: NDJSON files as the file sink writes them (rotated ones too, gzipped
 * or not), or stdin. A line may also hold a JSON array of events — the body of an OPA upload, as a
 * collector may have saved it. Every event is validated against the event schema; a line that is
 * not one fails with `ERR_LOG_INVALID` naming the file, the line and the field.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DecisionLogEventSchema, type DecisionLogEvent } from "../contracts/decision-log.js";
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

/** Every event of the logs, in file order; validated. */
export async function* readLogEvents(paths: readonly string[]): AsyncGenerator<DecisionLogEvent> {
  for (const file of await expandLogPaths(paths)) yield* readLogFile(file);
}

async function* readLogFile(file: string): AsyncGenerator<DecisionLogEvent> {
  let stream: Readable = file === "-" ? process.stdin : createReadStream(file);
  if (file.endsWith(".gz")) stream = stream.pipe(createGunzip());
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new LogInvalidError(file, n, [{ path: "", message: "not JSON" }]);
    }
    for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) {
      const parsed = DecisionLogEventSchema.safeParse(item);
      if (!parsed.success) throw new LogInvalidError(file, n, toIssues(parsed.error, Array.isArray(value) ? `[${i}]` : ""));
      yield parsed.data;
    }
  }
}
