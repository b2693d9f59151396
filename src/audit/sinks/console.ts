/**
 * The console sink: one line per event, shaped like OPA's console decision logs (`level`, `msg`
 * "Decision Log", then the event's fields), for development and for platforms that collect stdout.
 */
import type { Writable } from "node:stream";
import { DropReporter, type DropListener, type Sink } from "../sink.js";

export interface ConsoleSinkOptions {
  /** Where to write; process.stdout by default. */
  readonly stream?: Writable;
}

export class ConsoleSink implements Sink {
  readonly name = "console";
  private readonly stream: Writable;
  private readonly drops = new DropReporter();

  constructor(options: ConsoleSinkOptions = {}) {
    this.stream = options.stream ?? process.stdout;
  }

  write(line: string): void {
    try {
      this.stream.write(`{"level":"info","msg":"Decision Log",${line.slice(1)}\n`);
    } catch {
      this.drops.report("write_failed");
    }
  }

  /** A notice (a rollout record) is a log line already: written as it is. */
  notice(line: string): void {
    try {
      this.stream.write(`${line}\n`);
    } catch {
      this.drops.report("write_failed");
    }
  }

  async flush(): Promise<void> {
    if (this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.stream.once("drain", resolve));
  }

  async close(): Promise<void> {
    await this.flush();
  }

  onDrop(listener: DropListener): void {
    this.drops.add(listener);
  }
}
