/**
 * Express integration: a middleware that collects, decides and answers — next() on allow, 401
 * with the RFC 9470 challenge on step_up, 403 with the decision id and reason codes on deny — and
 * attaches the result to `req.stepup`. Use it app-wide (targets from the route mapping) or per
 * route with an explicit target. The client address comes from stepup's own trusted proxies,
 * not from Express's `trust proxy` setting.
 */
import type { IncomingHttpHeaders } from "node:http";
import { isStepupError } from "../errors.js";
import type { RequestFacts } from "../signals/request.js";
import { pathOf } from "../signals/request.js";
import type { TargetOverride } from "../signals/target.js";
import type { Guard, GuardResult } from "./guard.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** What stepup found and decided for this request. */
      stepup?: GuardResult;
    }
  }
}

/**
 * The parts of an Express request stepup reads; Express's own `Request` has them. Declared here
 * rather than imported from express, an optional peer, so the package's types compile without it.
 */
export interface ExpressRequest {
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly baseUrl: string;
  readonly originalUrl: string;
  readonly path?: unknown;
  readonly route?: unknown;
  /** What stepup found and decided for this request. */
  stepup?: GuardResult;
}

/** The parts of an Express response stepup writes; Express's own `Response` has them. */
export interface ExpressResponse {
  readonly headersSent: boolean;
  status(code: number): this;
  set(headers: Record<string, string>): this;
  append(name: string, value: string): this;
  send(body: string): unknown;
  json(body: unknown): unknown;
  end(): unknown;
}

/** Express's `next`. */
export type ExpressNext = (err?: unknown) => void;

/** A middleware as Express calls it (assignable to Express's `RequestHandler`). */
export type ExpressHandler = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void;

/** An error handler as Express calls it (assignable to Express's `ErrorRequestHandler`). */
export type ExpressErrorHandler = (err: unknown, req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void;

/**
 * @example
 * app.use(stepupExpress(guard));                                              // targets from the mapping
 * app.post("/admin/users", stepupExpress(guard, { target: { app: "admin-console", action: "admin" } }), handler);
 */
export function stepupExpress(guard: Guard, options: { target?: TargetOverride } = {}): ExpressHandler {
  return (req, res, next) => {
    guard.check(expressFacts(req), options.target).then((result) => {
      req.stepup = result;
      if (result.answer.proceed) return next();
      res.status(result.answer.status).set(result.answer.headers).send(JSON.stringify(result.answer.body));
    }, next);
  };
}

/**
 * stepup's errors as JSON answers instead of Express's default (an HTML page with the stack
 * trace outside production): a behaviour-store write that failed (`ERR_STATE_WRITE_FAILED`) is
 * 503 with `Retry-After`; any other stepup error 500. Other errors go on to the next handler.
 * @example
 * app.use(stepupExpressErrors()); // after the routes
 */
export function stepupExpressErrors(): ExpressErrorHandler {
  return (err, _req, res, next) => {
    if (!isStepupError(err) || res.headersSent) return next(err);
    const retry = err.code === "ERR_STATE_WRITE_FAILED";
    res
      .status(retry ? err.statusCode : 500)
      .set({ "cache-control": "no-store", ...(retry ? err.headers : {}) })
      .json({ error: retry ? "temporarily_unavailable" : "server_error", code: err.code, retryable: retry });
  };
}

/**
 * The request as the collectors see it. The path is the one Express routes on: `req.path` (the
 * pathname its router parses from the target, so `GET http://anything/payroll/42` is
 * `/payroll/42`) under the mount path, not the target as sent.
 */
export function expressFacts(req: ExpressRequest): RequestFacts {
  const routePath = (req.route as { path?: unknown } | undefined)?.path;
  const routed = req.path;
  return {
    peer: req.socket.remoteAddress,
    headers: req.headers,
    method: req.method,
    path: typeof routed === "string" ? `${req.baseUrl}${routed}` : pathOf(req.originalUrl),
    route: typeof routePath === "string" ? `${req.baseUrl}${routePath}` : null,
  };
}
