/**
 * The exception review trail. Every decision an exception applied to carries the exception (id,
 * kind, expiry, approver, the codes it relaxed) and the obligation `log_for_review` in its
 * verdict; each such use becomes a review record, logged when it happens and listed later by
 * `stepup review --since …` from the decision logs.
 */
import * as z from "zod";
import { AppliedException } from "../contracts/decision.js";
import type { DecisionLogEvent } from "../contracts/decision-log.js";

/** One use of one exception. */
export interface ReviewRecord {
  readonly timestamp: string;
  readonly decision_id: string;
  readonly revision: string | undefined;
  readonly exception: z.output<typeof AppliedException>;
  /** Whether the policy attached `log_for_review`, as it must for every exception it applies. */
  readonly review_required: boolean;
  readonly outcome: string | undefined;
  readonly app: string | undefined;
  readonly action: string | undefined;
  /** The subject as logged: hashed when the mask hashes subject ids. */
  readonly subject: string | undefined;
}

const ResultView = z.looseObject({
  outcome: z.string().optional(),
  obligations: z.array(z.string()).default([]),
  exceptions: z.array(AppliedException).default([]),
});
const InputView = z.looseObject({
  subject: z.looseObject({ id: z.unknown().optional() }).optional(),
  target: z.looseObject({ app: z.unknown().optional(), action: z.unknown().optional() }).optional(),
});

/** The review records of an event: one per exception in its result, none when it used none. */
export function reviewRecords(event: DecisionLogEvent): ReviewRecord[] {
  // Most decisions use no exception: say so without parsing the whole result.
  if (!usesException(event.result)) return [];
  const result = ResultView.safeParse(event.result);
  if (!result.success || result.data.exceptions.length === 0) return [];
  const input = InputView.safeParse(event.input);
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const subject = input.success ? text(input.data.subject?.id) : undefined;
  const app = input.success ? text(input.data.target?.app) : undefined;
  const action = input.success ? text(input.data.target?.action) : undefined;
  return result.data.exceptions.map((exception) => ({
    timestamp: event.timestamp,
    decision_id: event.decision_id,
    revision: eventRevision(event),
    exception,
    review_required: result.data.obligations.includes("log_for_review"),
    outcome: result.data.outcome,
    app,
    action,
    subject,
  }));
}

/** Whether an event used an exception (such events are never dropped by a drop rule). */
export function usesException(result: unknown): boolean {
  const exceptions = (result as { exceptions?: unknown } | undefined)?.exceptions;
  return Array.isArray(exceptions) && exceptions.length > 0;
}

/** The revision an event was decided on: its first bundle's, else OPA's deprecated `revision`. */
export function eventRevision(event: DecisionLogEvent): string | undefined {
  const bundles = Object.entries(event.bundles ?? {});
  // With several bundles (opa-envoy-plugin's: the policy and the edge settings), the policy's:
  // the one named stepup, as the SDK names it, or loaded from a file named so (OPA names a
  // bundle given on its command line by its path).
  const policy = bundles.find(([name]) => name === "stepup" || /(^|\/)stepup[^/]*$/.test(name)) ?? bundles[0];
  return policy?.[1].revision ?? event.revision;
}

/** The default review log: one JSON line on stderr per exception use. */
export function logReview(record: ReviewRecord): void {
  process.stderr.write(
    `${JSON.stringify({
      level: "warn",
      msg: "exception used; review required",
      exception_id: record.exception.id,
      kind: record.exception.kind,
      approver: record.exception.approver,
      expires_at: record.exception.expires_at,
      relaxed: record.exception.relaxed,
      obligation: "log_for_review",
      decision_id: record.decision_id,
      app: record.app,
      action: record.action,
      outcome: record.outcome,
    })}\n`,
  );
}
