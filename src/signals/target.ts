/**
 * The target: app and action from the route, through a configurable mapping. A rule naming the
 * framework's own route pattern (`/admin/users/:id`) wins; otherwise rules match the path the
 * framework routes on with path-to-regexp (case-insensitive, a trailing slash allowed: at least
 * whatever Express and Fastify match by default); the action defaults from the HTTP method. When
 * the router behind stepup is unknown (Envoy), every reading of the path must give the same
 * target, or the request is refused. Sensitivity is not set here: it comes from the bundle's
 * catalog, never from the caller. A request that no rule maps, or maps ambiguously, is an error,
 * which the HTTP integrations turn into a fail-closed deny.
 */
import type { MatchFunction } from "path-to-regexp";
import type { Input } from "../contracts/input.js";
import { SignalConfigInvalidError, TargetAmbiguousError, TargetUnmappedError, type Issue } from "../errors.js";
import { pathToRegexp } from "../lazy.js";

export type Target = Input["target"];

export interface RouteRule {
  /** One method or several (case-insensitive); all when absent. HEAD matches GET rules. */
  readonly method?: string | readonly string[];
  /** A path-to-regexp pattern such as `/admin/users/:id` or `/files/*path`. */
  readonly path: string;
  readonly app: string;
  /** The action; from the method when absent (`DEFAULT_ACTIONS`). */
  readonly action?: string;
}

export interface TargetOptions {
  readonly routes?: readonly RouteRule[];
  /** Action per HTTP method, over `DEFAULT_ACTIONS`. */
  readonly actions?: Readonly<Record<string, string>>;
  /** The app for requests no rule maps; without it such requests are `TargetUnmappedError`. */
  readonly fallbackApp?: string;
}

/** A target given in code for one route; `action` defaults from the method. */
export interface TargetOverride {
  readonly app: string;
  readonly action?: string;
  readonly resource?: string | null;
}

export const DEFAULT_ACTIONS: Readonly<Record<string, string>> = {
  GET: "read",
  HEAD: "read",
  OPTIONS: "read",
  POST: "write",
  PUT: "write",
  PATCH: "write",
  DELETE: "delete",
};

interface Compiled {
  readonly rule: RouteRule;
  readonly methods: ReadonlySet<string> | null;
  readonly matches: MatchFunction<object>;
}

export class TargetMap {
  private readonly rules: readonly Compiled[];
  private readonly actions: Readonly<Record<string, string>>;

  constructor(private readonly options: TargetOptions = {}) {
    const issues: Issue[] = [];
    this.rules = (options.routes ?? []).flatMap((rule, i) => {
      if (!rule.app || rule.app.length > 128) issues.push({ path: `targets.routes[${i}].app`, message: "expected 1 to 128 characters" });
      try {
        const methods = rule.method === undefined ? null : new Set([rule.method].flat().map((m) => m.toUpperCase()));
        return [{ rule, methods, matches: pathToRegexp().match(rule.path, { decode: safeDecode, sensitive: false, trailing: true }) }];
      } catch (err) {
        issues.push({ path: `targets.routes[${i}].path`, message: (err as Error).message });
        return [];
      }
    });
    if (issues.length > 0) throw new SignalConfigInvalidError(issues);
    this.actions = { ...DEFAULT_ACTIONS, ...upperKeys(options.actions ?? {}) };
  }

  /**
   * The target of a request. `path` is the path the framework routes on, `route` its matched
   * pattern when it has one; `readings` are other ways a router on the way may read the path, each
   * of which must map to the same target (`TargetAmbiguousError` otherwise).
   * @example
   * new TargetMap({ routes: [{ path: "/admin/*rest", app: "admin-console", action: "admin" }] })
   *   .resolve({ method: "POST", path: "/admin/users", route: null }); // { app: "admin-console", action: "admin", resource: "/admin/users" }
   */
  resolve(req: { method: string; path: string; route: string | null; readings?: readonly string[] }, override?: TargetOverride): Target {
    const method = req.method.toUpperCase();
    const resource = req.path.length > 0 && req.path.length <= 1024 ? req.path : null;
    const defaultAction = this.actions[method] ?? method.toLowerCase().slice(0, 64);
    if (override) return { app: override.app, action: override.action ?? defaultAction, resource: override.resource ?? resource };
    const byRoute = req.route === null ? null : this.byMethod(method, (rule) => rule.path === req.route);
    if (byRoute) return { app: byRoute.app, action: byRoute.action ?? defaultAction, resource };
    const targets = [req.path, ...(req.readings ?? [])].map((path) => this.byPath(method, path, defaultAction));
    const first = targets[0]!;
    const different = targets.filter((t) => t?.app !== first?.app || t?.action !== first?.action);
    if (different.length > 0) {
      const named = [...new Set(targets.map((t) => (t ? `${t.app}/${t.action}` : "(unmapped)")))];
      throw new TargetAmbiguousError(method, req.path, named);
    }
    if (first) return { ...first, resource };
    throw new TargetUnmappedError(method, req.path);
  }

  private byPath(method: string, path: string, defaultAction: string): { app: string; action: string } | null {
    const rule = this.byMethod(method, (_, matches) => matches(path) !== false);
    if (rule) return { app: rule.app, action: rule.action ?? defaultAction };
    return this.options.fallbackApp ? { app: this.options.fallbackApp, action: defaultAction } : null;
  }

  /** The first rule for the method that fits, trying GET rules first for HEAD. */
  private byMethod(method: string, fits: (rule: RouteRule, matches: MatchFunction<object>) => boolean): RouteRule | null {
    return this.find(method === "HEAD" ? "GET" : method, fits) ?? this.find(method, fits);
  }

  private find(method: string, fits: (rule: RouteRule, matches: MatchFunction<object>) => boolean): RouteRule | null {
    for (const { rule, methods, matches } of this.rules) {
      if (methods && !methods.has(method)) continue;
      if (fits(rule, matches)) return rule;
    }
    return null;
  }
}

function upperKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toUpperCase(), v]));
}

// A malformed percent-encoding must not throw out of matching: it simply does not match a parameter.
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
