/**
 * The target of a CheckRequest, as the Envoy entrypoint in rego/stepup/envoy/target.rego finds
 * it: the route's context extensions in Envoy's configuration (`stepup_app`, `stepup_action`),
 * else the routes of the edge settings (literal segments, `*` for one non-empty segment, a final
 * `**` for the non-empty rest; first match wins; HEAD matches GET routes first), else the
 * fallback app. The action defaults from the method.
 *
 * The handler behind Envoy routes on its own reading of the path, which stepup cannot see: so the
 * settings' routes are matched against every reading of the path a router may make
 * (request-path.ts), case-sensitively and not, and a path whose readings map to different targets
 * is refused (`ERR_TARGET_AMBIGUOUS`, a fail-closed deny). A target from the context extensions
 * is Envoy's own routing; it stands only for a path that every router splits into the same
 * segments (no dot segment, encoded or doubled slash, backslash or `;` parameter).
 */
import type { EnvoyRoute, EnvoySettings } from "../../contracts/envoy.js";
import { TargetAmbiguousError } from "../../errors.js";
import { hasOneStructure, pathReadings } from "../../signals/request-path.js";
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
  if (typeof app === "string") {
    const target = { app, action: extensions.stepup_action ?? defaultAction };
    if (!hasOneStructure(path)) throw new TargetAmbiguousError(upper, path, [`${target.app}/${target.action}`, "(another route)"]);
    return target;
  }
  const routes = settings.targets?.routes ?? [];
  const fallback = settings.targets?.fallback_app;
  const targetOf = (reading: string, fold: boolean): EdgeTarget | null => {
    const route = find(routes, upper === "HEAD" ? "GET" : upper, reading, fold) ?? find(routes, upper, reading, fold);
    if (route) return { app: route.app, action: route.action ?? defaultAction };
    return fallback ? { app: fallback, action: defaultAction } : null;
  };
  const readings = pathReadings(path);
  const targets = readings.flatMap((reading) => [targetOf(reading, false), targetOf(reading, true)]);
  const first = targets[0]!;
  if (targets.some((t) => t?.app !== first?.app || t?.action !== first?.action)) {
    throw new TargetAmbiguousError(upper, path, [...new Set(targets.map((t) => (t ? `${t.app}/${t.action}` : "(unmapped)")))]);
  }
  return first;
}

function find(routes: readonly EnvoyRoute[], method: string, path: string, fold: boolean): EnvoyRoute | undefined {
  const fits = (r: EnvoyRoute) => (fold ? routeMatches(r.path.toLowerCase(), path.toLowerCase()) : routeMatches(r.path, path));
  return routes.find((r) => (!r.methods || r.methods.some((m) => m.toUpperCase() === method)) && fits(r));
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
