/**
 * The decision contracts (v1). `Verdict` is what the policy returns: codes and numbers only,
 * which keeps the WebAssembly evaluation lean. `Decision` is what the SDK hands to callers: the
 * verdict with a decision id, the bundle revision, and each code rendered with its title, text and
 * control references from the bundle's metadata.
 */
import * as z from "zod";
import { CredentialStorage, CredentialType } from "./input.js";
import { lazySchema } from "./lazy-schema.js";

export const Outcome = lazySchema(() => z.enum(["allow", "step_up", "deny"]));
export const Tier = lazySchema(() => z.enum(["low", "standard", "high", "critical"]));
export const RiskLevel = lazySchema(() => z.enum(["low", "medium", "high", "critical"]));
export const Obligation = lazySchema(() => z.enum(["log_for_review", "notify_security"]));

/** A stable code such as `device.unmanaged`: its group, a dot, then the signal or reason. */
export const Code = lazySchema(() => z.string().regex(/^[a-z][a-z_]*\.[a-z0-9_.]+$/, "expected a code like group.name"));

export const SessionRequirement = lazySchema(() => z.strictObject({
  kind: z.literal("session"),
  aal: z.enum(["aal1", "aal2", "aal3"]),
  phishing_resistant: z.boolean(),
  max_age: z.int().min(0),
  acr_values: z.array(z.string()),
}));

/** What a service or workload must present; it is never prompted. */
export const WorkloadRequirement = lazySchema(() => z.strictObject({
  kind: z.literal("workload"),
  proof: z.array(CredentialType),
  max_lifetime: z.int().min(0),
  storage: z.array(CredentialStorage),
  missing: z.array(Code),
}));

export const Requirement = lazySchema(() => z.discriminatedUnion("kind", [SessionRequirement, WorkloadRequirement]));

export const ExceptionKind = lazySchema(() => z.enum(["break_glass", "travel", "supplier"]));

/** An exception from the bundle's data that applied to this request. */
export const AppliedException = lazySchema(() => z.strictObject({
  id: z.string(),
  kind: ExceptionKind,
  expires_at: z.int(),
  approver: z.string(),
  relaxed: z.array(Code),
}));

const RiskVerdict = lazySchema(() => z.strictObject({
  score: z.int().min(0),
  level: RiskLevel,
  groups: z.record(z.string(), z.int().min(0)),
  contributions: z.record(Code, z.int()),
}));

/** The policy's own answer, as every runtime (wasm, sidecar, Envoy) returns it. */
export const VerdictSchema = lazySchema(() => z.strictObject({
  outcome: Outcome,
  tier: Tier,
  risk: RiskVerdict,
  requirement: Requirement,
  satisfied: z.boolean(),
  reasons: z.array(Code),
  obligations: z.array(Obligation),
  exceptions: z.array(AppliedException),
  policy_version: z.string(),
  /**
   * The fields of the input at fault, when the policy refused a document that breaks the input
   * contract (reason `input.invalid`). Only runtimes sent a document directly give it: the SDK
   * refuses such a document before evaluating (ERR_INPUT_INVALID).
   */
  invalid_fields: z.array(z.string()).optional(),
}));

export const Contribution = lazySchema(() => z.strictObject({
  signal: Code,
  group: z.string(),
  points: z.int(),
  title: z.string(),
  detail: z.string(),
}));

export const Reason = lazySchema(() => z.strictObject({
  code: Code,
  title: z.string(),
  message: z.string(),
  controls: z.array(z.string()),
}));

/** The decision as callers, logs and auditors see it. */
export const DecisionSchema = lazySchema(() => z.strictObject({
  decision_id: z.string(),
  outcome: Outcome,
  target: z.strictObject({ app: z.string(), action: z.string(), tier: Tier }),
  risk: z.strictObject({
    score: z.int().min(0),
    level: RiskLevel,
    groups: z.record(z.string(), z.int().min(0)),
    contributions: z.array(Contribution),
  }),
  requirement: Requirement,
  satisfied: z.boolean(),
  reasons: z.array(Reason),
  obligations: z.array(Obligation),
  exceptions: z.array(AppliedException),
  policy: z.strictObject({ revision: z.string(), version: z.string() }),
  /** The fields of the input at fault, when the policy refused the document (reason `input.invalid`). */
  invalid_fields: z.array(z.string()).optional(),
  /** Present when the policy could not decide and the SDK failed closed. */
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
}));

export type Verdict = z.output<typeof VerdictSchema>;
export type Decision = z.output<typeof DecisionSchema>;
export type Requirement = z.output<typeof Requirement>;
export type Outcome = z.output<typeof Outcome>;
