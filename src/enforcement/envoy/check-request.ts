/**
 * From a decoded CheckRequest to what the guard needs: the request facts (source address as the
 * peer, headers, method, path, the time Envoy stamped, the verified mTLS peer) and the target.
 * The same reading as rego/stepup/envoy/: a request without its HTTP method, path or time cannot
 * be decided, and neither can one whose target breaks the input contract.
 */
import type { EnvoySettings } from "../../contracts/envoy.js";
import { CheckRequestInvalidError, type Issue } from "../../errors.js";
import type { RequestFacts } from "../../signals/request.js";
import { originPath, pathReadings } from "../../signals/request-path.js";
import type { TargetOverride } from "../../signals/target.js";
import type { CheckRequestObject } from "./protos.js";
import { edgeTarget } from "./routes.js";

const MAX_SECONDS = 253_402_300_799;

/** A CheckRequest read: the facts, the target (null: let the SDK's route mapping decide), Envoy's request id. */
export interface EdgeRequest {
  readonly facts: RequestFacts;
  readonly target: TargetOverride | null;
  readonly requestId: string | null;
}

/** Reads a CheckRequest; throws `CheckRequestInvalidError` naming what is missing or unusable. */
export function readCheckRequest(request: CheckRequestObject, settings: EnvoySettings): EdgeRequest {
  const attributes = record(request.attributes);
  const req = record(attributes.request);
  const http = record(req.http);
  const source = record(attributes.source);
  const issues: Issue[] = [];
  const method = nonEmpty(http.method);
  const path = nonEmpty(http.path);
  const time = seconds(req.time);
  if (method === null) issues.push({ path: "attributes.request.http.method", message: "is required" });
  if (path === null) issues.push({ path: "attributes.request.http.path", message: "is required" });
  if (time === null) issues.push({ path: "attributes.request.time", message: "is required (Unix seconds)" });
  if (method === null || path === null || time === null) throw new CheckRequestInvalidError(issues);

  const extensions = strings(attributes.context_extensions);
  // Envoy turns an absolute-form target into its path; a CheckRequest may still carry one.
  const resourcePath = originPath(path);
  const target = edgeTarget(settings, method, path, extensions);
  if (target && !(text(target.app, 128) && text(target.action, 64))) {
    throw new CheckRequestInvalidError([{ path: "attributes.context_extensions", message: "the target's app or action breaks the input contract" }]);
  }
  const address = record(record(source.address).socket_address).address;
  return {
    facts: {
      peer: typeof address === "string" ? address : null,
      headers: strings(http.headers),
      method,
      path: resourcePath,
      route: null,
      // For the SDK's own route mapping, when the settings map nothing: the handler behind Envoy
      // may read the path any of these ways.
      readings: pathReadings(path).slice(1),
      time,
      peerIdentity: { principal: nonEmpty(source.principal), certificate: pem(source.certificate) },
    },
    target: target && { app: target.app, action: target.action },
    requestId: nonEmpty(http.id),
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function nonEmpty(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

function text(value: string, max: number): boolean {
  return value.length > 0 && value.length <= max;
}

// protobuf leaves out fields at their default value: a time present without seconds is the epoch.
function seconds(value: unknown): number | null {
  if (typeof value !== "object" || value === null) return null;
  const s = (value as { seconds?: unknown }).seconds ?? 0;
  return typeof s === "number" && Number.isInteger(s) && s >= 0 && s <= MAX_SECONDS ? s : null;
}

/** A map<string, string> as a plain object without a prototype (a header named __proto__ is just a header). */
function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(record(value))) if (typeof v === "string") out[k] = v;
  return out;
}

// Envoy sends the peer certificate URL-encoded PEM; read it as the plugin's urlquery.decode does.
function pem(value: unknown): string | null {
  if (typeof value !== "string" || value.length === 0) return null;
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return null;
  }
}
