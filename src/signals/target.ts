/**
 * The target: app and action from the route, through a configurable mapping. Rules match the
 * framework's own route pattern (`/admin/users/:id`) exactly, or the request path with
 * path-to-regexp; the action defaults from the HTTP method. Sensitivity is not set here: it comes
 * from the bundle's catalog, never from the caller. A request that no rule maps is an error, which
 * the HTTP integrations turn into a fail-closed deny.
 */
import type { MatchFunction } from "path-to-regexp";
import type { Input } from "../contracts/input.js";
import { SignalConfigInvalidError, TargetUnmappedError, type Issue } from "../errors.js";
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
   * The target of a request. `route` is the framework's matched pattern when it has one.
   * @example
   * new TargetMap({ routes: [{ path: "/admin/*rest", app: "admin-console", action: "admin" }] })
   *   .resolve({ method: "POST", path: "/admin/users", route: null }); // { app: "admin-console", action: "admin", resource: "/admin/users" }
   */
  resolve(req: { method: string; path: string; route: string | null }, override?: TargetOverride): Target {
    const method = req.method.toUpperCase();
    const resource = req.path.length > 0 && req.path.length <= 1024 ? req.path : null;
    const defaultAction = this.actions[method] ?? method.toLowerCase().slice(0, 64);
    if (override) return { app: override.app, action: override.action ?? defaultAction, resource: override.resource ?? resource };
    const rule = this.find(method === "HEAD" ? "GET" : method, req.path, req.route) ?? this.find(method, req.path, req.route);
    if (rule) return { app: rule.app, action: rule.action ?? defaultAction, resource };
    if (this.options.fallbackApp) return { app: this.options.fallbackApp, action: defaultAction, resource };
    throw new TargetUnmappedError(method, req.path);
  }

  private find(method: string, path: string, route: string | null): RouteRule | null {
    for (const { rule, methods, matches } of this.rules) {
      if (methods && !methods.has(method)) continue;
      if ((route !== null && route === rule.path) || matches(path)) return rule;
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
