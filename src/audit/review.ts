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

/** The review records of an event: one per exception in its result, none when it used none. */
export function reviewRecords(event: DecisionLogEvent): ReviewRecord[] {
  // Most decisions use no exception: say so without parsing the whole result.
  if (!usesException(event.result)) return [];
  return records(event, ResultView.safeParse(event.result).data);
}

/**
 * The same for the logger's own events, whose result carries the verdict the SDK checked when it
 * decided (no mask may touch the exception trail): read without checking it again.
 */
export function checkedReviewRecords(event: DecisionLogEvent): ReviewRecord[] {
  if (!usesException(event.result)) return [];
  return records(event, checkedResult(event.result));
}

function records(event: DecisionLogEvent, result: z.output<typeof ResultView> | undefined): ReviewRecord[] {
  if (!result || result.exceptions.length === 0) return [];
  const { subject, app, action } = inputView(event.input);
  const review_required = result.obligations.includes("log_for_review");
  const revision = eventRevision(event);
  const out: ReviewRecord[] = [];
  for (const exception of result.exceptions) {
    out.push({ timestamp: event.timestamp, decision_id: event.decision_id, revision, exception, review_required, outcome: result.outcome, app, action, subject });
  }
  return out;
}

/**
 * The parts of a checked verdict a record reads (the outcome as logged: a mask may rewrite it),
 * copied so that a listener given a record cannot reach into the decision's own objects; checked
 * again, as a log's are, if it does not have the verdict's shape after all.
 */
function checkedResult(value: unknown): z.output<typeof ResultView> | undefined {
  const result = value as { outcome?: unknown; obligations?: unknown; exceptions: unknown[] };
  const shaped =
    Array.isArray(result.obligations) && result.exceptions.every((e) => isObject(e) && Array.isArray(e.relaxed) && typeof e.id === "string" && typeof e.kind === "string");
  if (!shaped) return ResultView.safeParse(value).data;
  return {
    outcome: typeof result.outcome === "string" ? result.outcome : undefined,
    obligations: result.obligations as string[],
    exceptions: (result.exceptions as z.output<typeof AppliedException>[]).map((exception) => ({ ...exception, relaxed: [...exception.relaxed] })),
  };
}

/**
 * The subject, app and action of a logged input, where they are strings; none when the input, its
 * subject or its target is there but not an object.
 */
function inputView(input: unknown): { subject?: string; app?: string; action?: string } {
  if (!isObject(input)) return {};
  const { subject, target } = input;
  if ((subject !== undefined && !isObject(subject)) || (target !== undefined && !isObject(target))) return {};
  return { subject: text(subject?.id), app: text(target?.app), action: text(target?.action) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
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
