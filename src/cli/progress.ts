/**
 * Progress on stderr for long CLI runs, drawn by cli-progress: only when stderr is a terminal
 * (never into a pipe or a log file), and only once the run has taken `after` ms, so that short
 * runs print nothing. Any command that knows its total can use it.
 */
import type { Writable } from "node:stream";
import { SingleBar } from "cli-progress";

export interface ProgressOptions {
  /** What is being done ("deciding"). */
  readonly label: string;
  /** The amount of work in all (bytes, lines…). */
  readonly total: number;
  /** The unit shown after the counts. */
  readonly unit?: string;
  /** Show nothing before the run has taken this long (default 2 s). */
  readonly after?: number;
  /** Where to draw; process.stderr by default. */
  readonly stream?: Writable & { isTTY?: boolean };
}

export interface Progress {
  /** How much of the total is done. */
  update(done: number): void;
  /** Removes the bar (if it was drawn). */
  stop(): void;
}

/** A progress bar that draws itself only on a terminal and only for a long run. */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return { update() {}, stop() {} };
  const startedAt = Date.now();
  const after = options.after ?? 2_000;
  let bar: SingleBar | undefined;
  let done = 0;
  return {
    update(value) {
      done = value;
      if (!bar && Date.now() - startedAt >= after) {
        bar = new SingleBar({
          stream,
          format: `${options.label} {bar} {percentage}% | {value}/{total}${options.unit ? ` ${options.unit}` : ""} | {duration_formatted} elapsed, eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          noTTYOutput: false,
        });
        bar.start(options.total, done);
      }
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
