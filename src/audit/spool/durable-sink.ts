/**
 * The deciding thread's side of a durable sink: `write` copies the event into a bounded ring in
 * shared memory and returns; a thread of the sink's own (spool-worker.ts) appends it to a disk
 * spool and delivers it from there to the destination, in order, resuming where it stopped after
 * an outage or a restart. Events are dropped only when the ring or the spool is full (or an event
 * is too large), and every drop is counted by reason. `accepting` says whether the sink has room,
 * for callers who fail closed rather than decide without a log.
 */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { workerScript } from "../../engine/batch/threads.js";
import { workerThreads } from "../../lazy.js";
import { DropReporter, type DropListener, type Sink } from "../sink.js";
import type { Notice } from "./destination.js";
import { allocateRing, CTRL, RingWriter, STAT } from "./ring.js";
import type { FsyncPolicy } from "./segments.js";
import type { SpoolMessage, SpoolRequest, SpoolSetup } from "./spool-worker.js";

/** How a durable sink queues and spools; every field has a default. */
export interface SpoolOptions {
  /**
   * The spool's folder, the sink's alone; events not yet delivered wait there across restarts.
   * By default a folder under the system's temporary folder named after the destination: set one
   * on persistent storage for events to outlive a reboot.
   */
  readonly spoolDir?: string;
  /** The spool's cap in bytes (default 1 GiB); past it new events are dropped and counted. */
  readonly maxSpoolBytes?: number;
  /** Size of one spool segment (default 16 MiB, at most an eighth of the cap). */
  readonly segmentBytes?: number;
  /**
   * When the spool is fsynced: after every append (`always`: survives power loss, costs a disk
   * flush per batch), every `fsyncIntervalMs` (`interval`, the default), or when the system
   * pleases (`never`). Every policy survives the process being killed: appends are in the page
   * cache as soon as they are made.
   */
  readonly fsync?: FsyncPolicy;
  readonly fsyncIntervalMs?: number;
  /** The in-memory queue between deciding and the spool, in bytes (default 32 MiB). */
  readonly queueBytes?: number;
  /** How long `close()` keeps delivering before it leaves the rest in the spool (default 5 s). */
  readonly closeTimeoutMs?: number;
  /** Called with the sink's notices (a removed file, a collector down or back); a JSON line on stderr by default. */
  readonly onNotice?: (notice: Notice) => void;
}

/** What a durable sink has done since it started. */
export interface DurableSinkStats {
  /** Events appended to the spool. */
  readonly appended: number;
  /** Events delivered to the destination (on retries, each once). */
  readonly delivered: number;
  /** Events in the spool waiting for delivery, earlier runs' included. */
  readonly pending: number;
  readonly spoolBytes: number;
  /** Deliveries that failed and were tried again. */
  readonly failedAttempts: number;
  /** Events that were in a destination file when it was removed. */
  readonly inRemovedFile: number;
  /** Events dropped, by reason. */
  readonly dropped: Readonly<Record<string, number>>;
}

export type Destination = SpoolSetup["destination"];

export abstract class DurableSink implements Sink {
  abstract readonly name: string;
  private readonly ring: RingWriter;
  private readonly stats_: Float64Array;
  private readonly worker: Worker;
  private readonly drops = new DropReporter();
  private readonly waiting = new Map<number, (delivered: boolean) => void>();
  private readonly closeTimeoutMs: number;
  private nextId = 1;
  private closed: Promise<void> | undefined;
  private failure: string | undefined;
  private readonly started: Promise<void>;
  private markStarted!: () => void;

  protected constructor(destination: Destination, defaultSpool: string, options: SpoolOptions) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    const memory = allocateRing(options.queueBytes ?? 32 * 1024 * 1024);
    this.ring = new RingWriter(memory);
    this.stats_ = new Float64Array(memory.stats);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    const maxBytes = options.maxSpoolBytes ?? 1024 ** 3;
    const setup: SpoolSetup = {
      ring: memory,
      spool: {
        dir: options.spoolDir ?? join(tmpdir(), "stepup-spool", `${destination.kind}-${createHash("sha256").update(defaultSpool).digest("hex").slice(0, 16)}`),
        maxBytes,
        segmentBytes: Math.max(64 * 1024, Math.min(options.segmentBytes ?? 16 * 1024 * 1024, Math.floor(maxBytes / 8))),
        fsync: options.fsync ?? "interval",
      },
      fsyncIntervalMs: options.fsyncIntervalMs ?? 1_000,
      drainIntervalMs: 10,
      destination,
    };
    const onNotice = options.onNotice ?? ((n: Notice) => process.stderr.write(`${JSON.stringify({ ...n, sink: this.name })}\n`));
    this.worker = new (workerThreads().Worker)(workerScript("spool-worker", import.meta.url), { workerData: setup, name: "stepup spool" });
    this.worker.unref();
    this.worker.on("message", (message: SpoolMessage) => {
      if ("reply" in message) {
        this.waiting.get(message.reply)?.(message.delivered);
        this.waiting.delete(message.reply);
      } else if ("drops" in message) {
        for (const [reason, count] of Object.entries(message.drops)) this.drops.report(reason as never, count ?? 0);
      } else if ("notice" in message) onNotice(message.notice);
      else if ("ready" in message) this.markStarted();
      else if ("failed" in message) this.fail(message.failed);
    });
    this.worker.on("error", (err) => this.fail(err.message));
    this.worker.on("exit", () => {
      for (const resolve of this.waiting.values()) resolve(false);
      this.waiting.clear();
      if (!this.closed) this.fail("the spool thread stopped");
    });
  }

  write(line: string): void {
    if (this.closed) return this.drops.report("closed");
    if (this.failure) return this.drops.report("write_failed");
    const written = this.ring.write(line);
    if (written === "full") this.drops.report("queue_full");
    else if (written === "too_large") this.drops.report("too_large");
  }

  writeBytes(bytes: Uint8Array, length: number): void {
    if (this.closed) return this.drops.report("closed");
    if (this.failure) return this.drops.report("write_failed");
    const written = this.ring.writeBytes(bytes, length);
    if (written === "full") this.drops.report("queue_full");
    else if (written === "too_large") this.drops.report("too_large");
  }

  writeInPlace<T>(write: (bytes: Uint8Array, at: number, end: number, arg: T) => number, arg: T): number {
    if (this.closed) {
      this.drops.report("closed");
      return 0;
    }
    if (this.failure) {
      this.drops.report("write_failed");
      return 0;
    }
    return this.ring.writeInPlace(write, arg);
  }

  /**
   * Resolves once every event written so far has been delivered (true), or once a delivery
   * failed meanwhile (false: the events stay in the spool and delivery goes on).
   */
  flush(): Promise<boolean> {
    if (this.closed || this.failure) return Promise.resolve(false);
    return this.ask({ id: this.nextId++, op: "flush" });
  }

  /**
   * Delivers what it can within `closeTimeoutMs`, then stops the sink's thread; what was not
   * delivered stays in the spool for the next start.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) await this.ask({ id: this.nextId++, op: "close", timeoutMs: this.closeTimeoutMs });
      await this.worker.terminate();
    })();
    return this.closed;
  }

  onDrop(listener: DropListener): void {
    this.drops.add(listener);
  }

  /** Whether an event written now would be kept: the queue has room and the spool is under its cap. */
  get accepting(): boolean {
    return !this.failure && !this.closed && !this.ring.flag(CTRL.spoolFull) && this.ring.used < this.ring.capacity - this.ring.maxRecord;
  }

  /** What was dropped, by reason. */
  get dropped(): Readonly<Record<string, number>> {
    return this.drops.dropped;
  }

  get stats(): DurableSinkStats {
    const s = this.stats_;
    return {
      appended: s[STAT.appended]!,
      delivered: s[STAT.delivered]!,
      pending: s[STAT.pending]!,
      spoolBytes: s[STAT.spoolBytes]!,
      failedAttempts: s[STAT.failedAttempts]!,
      inRemovedFile: s[STAT.inRemovedFile]!,
      dropped: this.drops.dropped,
    };
  }

  private ask(request: SpoolRequest): Promise<boolean> {
    return new Promise((resolve) => {
      // Holds the process open until the thread answers.
      this.worker.ref();
      this.waiting.set(request.id, (delivered) => {
        if (this.waiting.size <= 1) this.worker.unref();
        resolve(delivered);
      });
      this.ring.wake();
      this.worker.postMessage(request);
    });
  }

  /**
   * Resolves once the sink's thread runs and holds its spool (events written before wait in the
   * queue meanwhile): for a burst at start-up that could outgrow the queue.
   */
  ready(): Promise<void> {
    return Promise.race([this.started, this.closed ?? new Promise<void>(() => {})]);
  }

  private fail(reason: string): void {
    this.markStarted();
    if (this.failure) return;
    this.failure = reason;
    process.stderr.write(`${JSON.stringify({ level: "error", msg: "decision log sink failed; its events are dropped", sink: this.name, error: reason })}\n`);
  }
}
