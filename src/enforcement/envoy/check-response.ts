/**
 * From the guard's answer to Envoy's CheckResponse — the same answer the Envoy entrypoint in
 * rego/stepup/envoy/answer.rego gives: allow is gRPC OK with the decision id, risk level and
 * bundle revision as request headers for the upstream (overriding any the client sent); step_up
 * and deny are PERMISSION_DENIED with the HTTP status, headers (the RFC 9470 challenge) and JSON
 * body the SDK's HTTP integrations send. Dynamic metadata carries a summary for Envoy's logs.
 */
import type { Decision } from "../../contracts/decision.js";
import type { HttpAnswer } from "../answer.js";

/** gRPC status codes used here (google.rpc.Code). */
export const GRPC = { OK: 0, PERMISSION_DENIED: 7, UNAVAILABLE: 14 } as const;

export type CheckResponseObject = Record<string, unknown>;

/**
 * The CheckResponse for an answer; `decision` is null only for an invalid token, whose summary then
 * names Envoy's request id (or a fresh one) and the active revision.
 */
export function checkResponse(answer: HttpAnswer, decision: Decision | null, context: { requestId: string; revision: string }): CheckResponseObject {
  const metadata = struct({ stepup: summary(decision, answer, context) });
  if (answer.proceed && decision) {
    return {
      status: { code: GRPC.OK },
      ok_response: { headers: headerOptions(upstreamHeaders(decision)) },
      dynamic_metadata: metadata,
    };
  }
  return {
    status: { code: GRPC.PERMISSION_DENIED },
    denied_response: {
      status: { code: answer.status },
      headers: headerOptions(answer.headers),
      body: answer.body ? JSON.stringify(answer.body) : "",
    },
    dynamic_metadata: metadata,
  };
}

/** The request headers the upstream receives with an allowed request. */
export function upstreamHeaders(decision: Decision): Record<string, string> {
  return {
    "x-stepup-decision-id": decision.decision_id,
    "x-stepup-risk-level": decision.risk.level,
    "x-stepup-revision": decision.policy.revision,
  };
}

function summary(decision: Decision | null, answer: HttpAnswer, context: { requestId: string; revision: string }): Record<string, unknown> {
  if (!decision) return { decision_id: context.requestId, outcome: String(answer.body?.error ?? "invalid_token"), revision: context.revision };
  const reasons = decision.reasons.map((r) => r.code).sort();
  return {
    decision_id: decision.decision_id,
    outcome: decision.outcome,
    tier: decision.target.tier,
    risk_level: decision.risk.level,
    risk_score: decision.risk.score,
    reasons,
    revision: decision.policy.revision,
    ...(decision.error && { error: decision.error.code }),
  };
}

function headerOptions(headers: Readonly<Record<string, string>>): Record<string, unknown>[] {
  return Object.entries(headers).map(([key, value]) => ({ header: { key, value } }));
}

/** A google.protobuf.Struct from plain JSON values (protobufjs's bundled well-known types use camelCase names). */
export function struct(value: Record<string, unknown>): Record<string, unknown> {
  return { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structValue(v)])) };
}

function structValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(structValue) } };
  return { structValue: struct(v as Record<string, unknown>) };
}
