/**
 * The target of a CheckRequest, as the Envoy entrypoint in rego/stepup/envoy/target.rego finds
 * it: the route's context extensions in Envoy's configuration (`stepup_app`, `stepup_action`),
 * else the routes of the edge settings (literal segments, `*` for one non-empty segment, a final
 * `**` for the non-empty rest; first match wins; HEAD matches GET routes first), else the
 * fallback app. The action defaults from the method.
 */
import type { EnvoyRoute, EnvoySettings } from "../../contracts/envoy.js";
import { DEFAULT_ACTIONS } from "../../signals/target.js";

export interface EdgeTarget {
  readonly app: string;
  readonly action: string;
}

/** The target, or null when nothing maps the request (the caller then falls back to the SDK's own mapping). */
export function edgeTarget(
  settings: EnvoySettings,
  method: string,
  path: string,
  extensions: Readonly<Record<string, string>>,
): EdgeTarget | null {
  const upper = method.toUpperCase();
  const actions: Record<string, string> = { ...DEFAULT_ACTIONS };
  for (const [m, a] of Object.entries(settings.targets?.actions ?? {})) actions[m.toUpperCase()] = a;
  const defaultAction = actions[upper] ?? upper.toLowerCase().slice(0, 64);
  const app = extensions.stepup_app;
  if (typeof app === "string") return { app, action: extensions.stepup_action ?? defaultAction };
  const routes = settings.targets?.routes ?? [];
  const route = find(routes, upper === "HEAD" ? "GET" : upper, path) ?? find(routes, upper, path);
  if (route) return { app: route.app, action: route.action ?? defaultAction };
  const fallback = settings.targets?.fallback_app;
  return fallback ? { app: fallback, action: defaultAction } : null;
}

function find(routes: readonly EnvoyRoute[], method: string, path: string): EnvoyRoute | undefined {
  return routes.find((r) => (!r.methods || r.methods.some((m) => m.toUpperCase() === method)) && routeMatches(r.path, path));
}

/** Whether a path fits a route pattern, segment by segment. */
export function routeMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const s = path.split("/");
  const fits = (seg: string, i: number) => (seg === "*" ? (s[i] ?? "") !== "" : seg === s[i]);
  if (p.length === s.length && p.every(fits)) return true;
  const n = p.length - 1;
  if (p[n] !== "**" || s.length <= n) return false;
  return p.slice(0, n).every(fits) && s.slice(n).join("/") !== "";
}
