/**
 * Replaying opa-envoy-plugin's decisions (`stepup/envoy/response`): the logged input is Envoy's
 * CheckRequest, the result the plugin's answer. The CheckRequest goes through the edge mapping of
 * stepup's own ext_authz server (src/enforcement/envoy/) with the same edge settings the plugin
 * read (`data.stepup_envoy`): tokens and posture statements verified at the time Envoy stamped on
 * the request, zones and lists from the settings, no geography and no behaviour, as at the edge.
 * The resulting input is decided on the revision's wasm, and the answer's summary
 * (`dynamic_metadata.stepup`: outcome, tier, risk, reasons) is compared with the logged one.
 */
import type { Verdict } from "../contracts/decision.js";
import type { DecisionLogEvent } from "../contracts/decision-log.js";
import type { EnvoySettings } from "../contracts/envoy.js";
import type { Input } from "../contracts/input.js";
import { readCheckRequest } from "../enforcement/envoy/check-request.js";
import { envoySignalsOptions } from "../enforcement/envoy/settings.js";
import { isStepupError } from "../errors.js";
import { Signals } from "../signals/collect.js";

/** The entrypoint opa-envoy-plugin decides on. */
export const EDGE_PATH = "stepup/envoy/response";

export function isEdgeEvent(event: DecisionLogEvent): boolean {
  return event.path === EDGE_PATH || event.path === `/${EDGE_PATH}`;
}

/** What the edge made of a CheckRequest: stepup's input, or an answer given without deciding. */
export type EdgeMapping = { readonly input: Input } | { readonly answer: "invalid_token" | "failed"; readonly reason: string };

/** The parts of the plugin's answer replay compares (`dynamic_metadata.stepup`). */
export interface EdgeSummary {
  readonly outcome: string;
  readonly tier?: string;
  readonly risk_level?: string;
  readonly risk_score?: number;
  readonly reasons?: readonly string[];
}

/** The edge mapping of stepup's Node ext_authz server, on the edge settings given. */
export class EdgeMapper {
  private constructor(private readonly settings: EnvoySettings, private readonly signals: Signals) {}

  static async create(settings: EnvoySettings): Promise<EdgeMapper> {
    return new EdgeMapper(settings, await Signals.create({ ...envoySignalsOptions(settings), geo: false }));
  }

  async map(event: DecisionLogEvent): Promise<EdgeMapping> {
    try {
      const edge = readCheckRequest(asCheckRequest(event.input), this.settings);
      const collected = await this.signals.collect(edge.facts, edge.target ?? undefined);
      return { input: collected.input };
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_TOKEN_INVALID") return { answer: "invalid_token", reason: err.message };
      return { answer: "failed", reason: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * The CheckRequest as the server's reader takes it (protobuf's field names, a time's seconds as a
 * number): the plugin logs protobuf's JSON form, with lowerCamelCase names (`socketAddress`,
 * `contextExtensions`), an int64 as a string and a Timestamp perhaps as RFC 3339. The keys of
 * maps (headers, context extensions, metadata) are data and stay as they are.
 */
export function asCheckRequest(input: unknown): Record<string, unknown> {
  const request = snakeKeys(input) as Record<string, unknown>;
  const req = (request.attributes as { request?: { time?: unknown } } | undefined)?.request;
  if (req && typeof req.time === "string") {
    const at = Date.parse(req.time);
    req.time = Number.isNaN(at) ? req.time : { seconds: Math.floor(at / 1000) };
  } else if (req && typeof req.time === "object" && req.time !== null) {
    const time = req.time as { seconds?: unknown };
    if (typeof time.seconds === "string" && /^\d+$/.test(time.seconds)) time.seconds = Number(time.seconds);
  }
  return request;
}

const MAPS = new Set(["headers", "context_extensions", "filter_metadata", "typed_filter_metadata", "metadata_context", "route_metadata_context", "labels"]);

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[name] = MAPS.has(name) && typeof v === "object" && v !== null && !Array.isArray(v) ? { ...v } : snakeKeys(v);
  }
  return out;
}

/** The summary the plugin logged. */
export function loggedSummary(event: DecisionLogEvent): EdgeSummary | undefined {
  const summary = (event.result as { dynamic_metadata?: { stepup?: EdgeSummary } } | undefined)?.dynamic_metadata?.stepup;
  return summary && typeof summary.outcome === "string" ? summary : undefined;
}

/** The summary the plugin gives for a verdict, or for an answer given without deciding. */
export function summaryOf(evaluated: { verdict: Verdict } | { answer: "invalid_token" | "failed" } | { error: string }): EdgeSummary {
  if ("answer" in evaluated) return evaluated.answer === "invalid_token" ? { outcome: "invalid_token" } : { outcome: "deny", reasons: ["engine.failure"] };
  if ("error" in evaluated) return { outcome: "deny", reasons: ["engine.failure"] };
  const v = evaluated.verdict;
  return { outcome: v.outcome, tier: v.tier, risk_level: v.risk.level, risk_score: v.risk.score, reasons: [...v.reasons].sort() };
}

/** Equal on the fields the logged summary has. */
export function sameSummary(logged: EdgeSummary, replayed: EdgeSummary): boolean {
  if (logged.outcome !== replayed.outcome) return false;
  if (logged.tier !== undefined && logged.tier !== replayed.tier) return false;
  if (logged.risk_level !== undefined && logged.risk_level !== replayed.risk_level) return false;
  if (logged.risk_score !== undefined && logged.risk_score !== replayed.risk_score) return false;
  if (logged.reasons !== undefined && [...logged.reasons].sort().join(",") !== (replayed.reasons ?? []).join(",")) return false;
  return true;
}

export function describeSummary(s: EdgeSummary): string {
  return `${s.outcome} [${(s.reasons ?? []).join(", ")}]`;
}
