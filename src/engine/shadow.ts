/**
 * Report-only (shadow) rollout: a candidate revision decides beside the active one, on the same
 * inputs, off the request's path. The enforced decision is made and returned first; the
 * candidate's evaluation waits for a later turn of the event loop (`setImmediate`, after the
 * answer has been written), a slice at a time; then the decision event is announced once, with
 * the candidate's outcome beside the enforced one. Whatever the candidate does — throw, trap, give
 * a verdict that breaks the contract — is caught here and recorded as the candidate's error: it
 * never reaches the enforced decision, which was returned before the candidate ran.
 */
import type { ShadowOutcome } from "../contracts/decision-log.js";
import type { Bundle } from "../bundle/load.js";
import { asStepupError, type DecisionEvent } from "../decision/conclude.js";
import { parseVerdict } from "../decision/verdict.js";
import type { Engine } from "./engine.js";

/** A revision ready to decide: its bundle and its compiled engine. */
export interface Revision {
  readonly bundle: Bundle;
  readonly engine: Engine;
}

export interface ShadowOptions {
  /**
   * The most decisions waiting for the candidate (10,000 by default). Beyond it a decision is
   * announced at once with `shadow.skipped: "queue_full"`: a service deciding faster than the
   * candidate can follow sheds the comparison, never the enforced decision.
   */
  readonly maxPending?: number;
  /** Candidate evaluations per turn of the event loop (256 by default, a few milliseconds). */
  readonly slice?: number;
}

interface Pending {
  readonly event: DecisionEvent;
  readonly candidate: Revision;
  /** The caller failed closed (a signal source failed): the candidate would fail the same way. */
  readonly sameFailure: boolean;
}

export class ShadowQueue {
  private queue: Pending[] = [];
  private head = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private readonly maxPending: number;
  private readonly slice: number;

  constructor(
    private readonly announce: (event: DecisionEvent) => void,
    options: ShadowOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    this.slice = options.slice ?? 256;
  }

  /** How many decisions wait for the candidate. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Queues the enforced decision's event for the candidate's evaluation. */
  add(event: DecisionEvent, candidate: Revision, sameFailure: boolean): void {
    if (this.pending >= this.maxPending) {
      this.emit({ ...event, shadow: { revision: candidate.bundle.revision, skipped: "queue_full" } });
      return;
    }
    this.queue.push({ event, candidate, sameFailure });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Resolves once every queued decision has been compared and announced. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Compares and announces everything queued now, on this turn: a switch of revisions calls it
   * first, so that the decisions made before the switch are announced before its record.
   */
  flush(): void {
    this.run(this.queue.length);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    this.run(this.slice);
  };

  private run(count: number): void {
    if (this.pending === 0) return;
    const end = Math.min(this.queue.length, this.head + count);
    while (this.head < end) {
      const item = this.queue[this.head++] as Pending;
      this.emit({ ...item.event, shadow: shadowOf(item) });
    }
    if (this.head < this.queue.length) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.drain);
      }
      return;
    }
    this.queue = [];
    this.head = 0;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  private emit(event: DecisionEvent): void {
    try {
      this.announce(event);
    } catch (err) {
      const line = { level: "error", msg: "stepup onDecision listener failed", error: String(err), decision_id: event.decision.decision_id };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    }
  }
}

/** What the candidate decides on the event's input; never throws. */
export function shadowOf({ event, candidate, sameFailure }: Pending): ShadowOutcome {
  const revision = candidate.bundle.revision;
  if (sameFailure && event.error) return failure(revision, event.error);
  try {
    const verdict = parseVerdict(candidate.engine.evaluate(event.input));
    return { revision, outcome: verdict.outcome, tier: verdict.tier, reasons: [...verdict.reasons], score: verdict.risk.score };
  } catch (err) {
    return failure(revision, asStepupError(err));
  }
}

function failure(revision: string, error: { code: string; message: string }): ShadowOutcome {
  return { revision, outcome: "deny", reasons: ["engine.failure"], error: { code: error.code, message: error.message } };
}
