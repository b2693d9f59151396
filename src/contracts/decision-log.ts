/**
 * The decision-log event, in OPA's own format (EventV1 of OPA's decision-log plugin), so that the
 * SDK's events and an OPA sidecar's land in the same collector, the same index and the same
 * queries. `input` is the input document the policy saw and `result` the policy's verdict, as OPA
 * logs them; `bundles` names the revision each decision was made on, which is what replay needs.
 */
import * as z from "zod";
import { Outcome, Tier } from "./decision.js";
import { lazySchema } from "./lazy-schema.js";

/** A path into the event, as OPA's `system.log.mask` writes it: `/input/...` or `/result/...`. */
export const MaskPath = lazySchema(() => z
  .string()
  .regex(/^\/(input|result)(\/[^/]+)*$/, "expected a path like /input/subject/id or /result/reasons"));

/** Remove the value at the path (OPA's default operation; a bare path string means the same). */
export const RemoveRule = lazySchema(() => z.strictObject({ op: z.literal("remove"), path: MaskPath }));
/** Set the value at the path, creating objects on the way (OPA's `upsert`). */
export const UpsertRule = lazySchema(() => z.strictObject({ op: z.literal("upsert"), path: MaskPath, value: z.unknown().default(null) }));
/** stepup's extension: replace a string with its keyed hash, so events stay correlatable. */
export const HashRule = lazySchema(() => z.strictObject({ op: z.literal("hash"), path: MaskPath }));
/** stepup's extension: keep only the network part of an IP address (IPv4 /24, IPv6 /48 by default). */
export const TruncateIpRule = lazySchema(() => z.strictObject({
  op: z.literal("truncate_ip"),
  path: MaskPath,
  ipv4_prefix: z.int().min(0).max(32).default(24),
  ipv6_prefix: z.int().min(0).max(128).default(48),
}));

/** One mask rule: OPA's forms (a path string, `remove`, `upsert`) or stepup's `hash` and `truncate_ip`. */
export const MaskOpRule = lazySchema(() => z.discriminatedUnion("op", [RemoveRule, UpsertRule, HashRule, TruncateIpRule]));
export const MaskRuleSchema = lazySchema(() => z.union([MaskPath, MaskOpRule]));

/**
 * Which events to drop before they reach any sink, like OPA's `system.log.drop`: an event is
 * dropped when every field given matches. Events that used an exception are never dropped.
 */
export const DropRuleSchema = lazySchema(() => z.strictObject({
  outcome: z.array(Outcome).min(1).optional(),
  tier: z.array(Tier).min(1).optional(),
  app: z.array(z.string().min(1)).min(1).optional(),
}));

const Json = lazySchema(() => z.unknown());

/**
 * What the candidate revision of a report-only (shadow) rollout would have decided for the same
 * input, logged beside the enforced `result` in `custom.shadow`: its outcome, tier, reasons and
 * score, or the error it failed on (its outcome is then the fail-closed deny). Never enforced.
 * `skipped` says the candidate was not asked (its queue was full), so there is nothing to compare.
 */
export const ShadowOutcomeSchema = lazySchema(() => z.strictObject({
  revision: z.string(),
  outcome: Outcome.optional(),
  tier: Tier.optional(),
  reasons: z.array(z.string()).optional(),
  score: z.number().optional(),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  skipped: z.literal("queue_full").optional(),
}));

/**
 * stepup's own fields in OPA's `custom` object: the shadow outcome. Other keys pass through, as
 * OPA lets its users put anything there.
 */
export const CustomFieldsSchema = lazySchema(() => z.looseObject({ shadow: ShadowOutcomeSchema.optional() }));

/**
 * A switch of revisions in a report-only rollout, written into the decision log between events as
 * a notice line (`level` and `msg`, no `decision_id`), which every reader of decision events skips
 * as it skips OPA's own log lines. `promoted`: the candidate became the active revision;
 * `rolled_back`: the revision active before the last switch is active again (the one demoted goes
 * back to being the candidate); `candidate_set` and `candidate_cleared`: report-only starts and ends;
 * `candidate_failed`: a candidate could not be loaded, and nothing changed.
 */
export const RolloutRecordSchema = lazySchema(() => z.strictObject({
  level: z.enum(["info", "error"]),
  msg: z.literal("stepup rollout"),
  action: z.enum(["promoted", "rolled_back", "candidate_set", "candidate_cleared", "candidate_failed"]),
  timestamp: z.iso.datetime({ offset: true }),
  /** The revision active after the switch. */
  active: z.string(),
  /** The revision active before it (for promotions and rollbacks). */
  previous: z.string().optional(),
  /** The candidate after the switch, if any. */
  candidate: z.string().optional(),
  /** Who asked for it, when the caller says (`promote({ by })`, the CLI's user). */
  by: z.string().optional(),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
}));

/** OPA's decision-log event (EventV1), field for field; what both OPA and the SDK upload. */
export const DecisionLogEventSchema = lazySchema(() => z.strictObject({
  labels: z.record(z.string(), z.string()).nullable(),
  decision_id: z.string().min(1),
  batch_decision_id: z.string().optional(),
  trace_id: z.string().optional(),
  span_id: z.string().optional(),
  /** Deprecated by OPA in favour of `bundles`; accepted on read. */
  revision: z.string().optional(),
  bundles: z.record(z.string(), z.strictObject({ revision: z.string().optional() })).optional(),
  path: z.string().optional(),
  query: z.string().optional(),
  input: Json.optional(),
  result: Json.optional(),
  intermediate_results: z.record(z.string(), Json).optional(),
  mapped_result: Json.optional(),
  nd_builtin_cache: Json.optional(),
  erased: z.array(z.string()).optional(),
  masked: z.array(z.string()).optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
  requested_by: z.string().optional(),
  timestamp: z.iso.datetime({ offset: true }),
  metrics: z.record(z.string(), z.number()).optional(),
  req_id: z.int().min(1).optional(),
  rule_labels: z.array(z.record(z.string(), Json)).optional(),
  request_context: z.looseObject({}).optional(),
  /** OPA's free-form object; stepup writes the candidate's outcome of a shadow rollout there (`shadow`). */
  custom: CustomFieldsSchema.optional(),
}));

/**
 * An event as read back from a log: OPA's event with whatever wrapper fields the writer added
 * around it — OPA's and stepup's console logs put `level`, `msg`, `time` and `type` beside the
 * event's own fields — left out rather than refused.
 */
export const DecisionLogRecordSchema = lazySchema(() => z.object(DecisionLogEventSchema.shape));

export type MaskRule = z.input<typeof MaskRuleSchema>;
export type ParsedMaskRule = z.output<typeof MaskRuleSchema>;
export type DropRule = z.output<typeof DropRuleSchema>;
export type DecisionLogEvent = z.output<typeof DecisionLogEventSchema>;
export type ShadowOutcome = z.output<typeof ShadowOutcomeSchema>;
export type RolloutRecord = z.output<typeof RolloutRecordSchema>;
