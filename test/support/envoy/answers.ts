/**
 * Comparing ext_authz answers: a CheckResponse from either client (proto-loader objects or
 * protojson) and the in-process decision's HTTP answer, all brought to one shape — gRPC code,
 * allowed, HTTP status, headers, body, the stepup summary in dynamic metadata — with decision ids
 * set aside (each runtime names its own) and reason lists sorted (the contract treats them as sets).
 */
import type { Decision } from "../../../src/contracts/decision.js";
import { answerDecision } from "../../../src/enforcement/answer.js";
import type { CheckOutcome } from "./node-client.js";

export interface Answer {
  readonly grpc: number;
  readonly status: number | null;
  readonly allowed: boolean;
  readonly http_status: number | null;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly metadata: Record<string, unknown> | null;
}

/** The answer's decision ids (upstream header, body, metadata), which must all name the same decision. */
export function decisionIds(answer: Answer): string[] {
  const ids = [answer.headers["x-stepup-decision-id"], (answer.body as { decision_id?: string } | null)?.decision_id, answer.metadata?.decision_id as string | undefined];
  return ids.filter((id): id is string => typeof id === "string");
}

/** The answer with decision ids replaced by a placeholder and only the summary fields every runtime gives. */
export function comparable(answer: Answer): Answer {
  const headers = { ...answer.headers };
  if (headers["x-stepup-decision-id"]) headers["x-stepup-decision-id"] = "<id>";
  let body = answer.body;
  if (body && typeof body === "object") {
    const b = { ...(body as Record<string, unknown>) };
    if ("decision_id" in b) b.decision_id = "<id>";
    if (Array.isArray(b.reasons)) b.reasons = [...(b.reasons as string[])].sort();
    body = b;
  }
  const m = answer.metadata;
  const metadata = m && Object.fromEntries(["outcome", "tier", "risk_level", "risk_score", "reasons", "revision"].filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
  return { ...answer, headers, body, metadata };
}

/** A CheckOutcome from the Node client (proto-loader, field names as in the proto) or the Go client (protojson). */
export function fromOutcome(outcome: CheckOutcome): Answer {
  const r = outcome.response;
  if (outcome.code !== 0 || !r) return { grpc: outcome.code, status: null, allowed: false, http_status: null, headers: {}, body: null, metadata: null };
  const ok = (r.ok_response ?? r.okResponse) as Record<string, unknown> | undefined;
  const denied = (r.denied_response ?? r.deniedResponse) as Record<string, unknown> | undefined;
  const status = ((r.status as { code?: number } | undefined)?.code ?? 0) as number;
  const part = ok ?? denied ?? {};
  const headers: Record<string, string> = {};
  for (const h of (part.headers as { header?: { key?: string; value?: string } }[] | undefined) ?? []) {
    if (h.header?.key !== undefined) headers[h.header.key.toLowerCase()] = h.header.value ?? "";
  }
  const metadataRaw = (r.dynamic_metadata ?? r.dynamicMetadata) as Record<string, unknown> | undefined;
  const metadata = metadataRaw ? structJson(metadataRaw) : null;
  return {
    grpc: 0,
    status,
    allowed: ok !== undefined && status === 0,
    http_status: denied ? (((denied.status as { code?: number } | undefined)?.code ?? 0) as number) : null,
    headers,
    body: denied ? parseBody(denied.body) : null,
    metadata: (metadata?.stepup as Record<string, unknown> | undefined) ?? null,
  };
}

/** The plugin's own decision id (top-level dynamic metadata), which its decision log names. */
export function pluginDecisionId(outcome: CheckOutcome): string | null {
  const r = outcome.response;
  const raw = (r?.dynamic_metadata ?? r?.dynamicMetadata) as Record<string, unknown> | undefined;
  const id = raw ? structJson(raw).decision_id : undefined;
  return typeof id === "string" ? id : null;
}

/** What the SDK's HTTP integrations answer for a decision, in the same shape (the in-process reference). */
export function inProcessAnswer(decision: Decision, hadToken: boolean, realm?: string): Answer {
  const http = answerDecision(decision, hadToken, realm ? { realm } : {});
  const summary = {
    outcome: decision.outcome,
    tier: decision.target.tier,
    risk_level: decision.risk.level,
    risk_score: decision.risk.score,
    reasons: decision.reasons.map((r) => r.code).sort(),
    revision: decision.policy.revision,
  };
  if (http.proceed) {
    return {
      grpc: 0,
      status: 0,
      allowed: true,
      http_status: null,
      headers: { "x-stepup-decision-id": decision.decision_id, "x-stepup-risk-level": decision.risk.level, "x-stepup-revision": decision.policy.revision },
      body: null,
      metadata: summary,
    };
  }
  return { grpc: 0, status: 7, allowed: false, http_status: http.status, headers: { ...http.headers }, body: http.body, metadata: summary };
}

function parseBody(body: unknown): unknown {
  if (typeof body !== "string" || body === "") return null;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** google.protobuf.Struct as proto-loader decodes it (fields / *Value), or already JSON (protojson). */
function structJson(value: Record<string, unknown>): Record<string, unknown> {
  if (!("fields" in value) || typeof value.fields !== "object") return value;
  return Object.fromEntries(Object.entries(value.fields as Record<string, Record<string, unknown>>).map(([k, v]) => [k, valueJson(v)]));
}

// The well-known types come with camelCase field names whatever the loader's keepCase.
function valueJson(v: Record<string, unknown>): unknown {
  if ("stringValue" in v) return v.stringValue;
  if ("numberValue" in v) return v.numberValue;
  if ("boolValue" in v) return v.boolValue;
  if ("structValue" in v) return structJson(v.structValue as Record<string, unknown>);
  if ("listValue" in v) return ((v.listValue as { values?: Record<string, unknown>[] }).values ?? []).map(valueJson);
  return null;
}

/** JSON with object keys sorted, for comparing documents whose key order carries no meaning. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
