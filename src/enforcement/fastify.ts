/**
 * Fastify integration: a plugin adding an onRequest hook that collects, decides and answers —
 * continue on allow, 401 with the RFC 9470 challenge on step_up, 403 with the decision id and
 * reason codes on deny — and sets `request.stepup`. A route may name its target in
 * `config.stepup`, or opt out with `config.stepup: false`; otherwise the route mapping applies:
 * the rule naming the route's own pattern, else the rules matching the path as Fastify routes it.
 * The hook runs after Fastify routed the request, so the pattern is the handler's. Requests that
 * match no route are left to Fastify's 404.
 */
import type { FastifyPluginCallback, FastifyRequest } from "fastify";
import type { RequestFacts } from "../signals/request.js";
import { fastifyPath, fastifyReadings } from "../signals/request-path.js";
import type { TargetOverride } from "../signals/target.js";
import type { Guard, GuardResult } from "./guard.js";

declare module "fastify" {
  interface FastifyRequest {
    /** What stepup found and decided for this request. */
    stepup: GuardResult | null;
  }
  interface FastifyContextConfig {
    /** This route's target, or false to leave the route unprotected. */
    stepup?: TargetOverride | false;
  }
}

export interface StepupFastifyOptions {
  readonly guard: Guard;
}

const plugin: FastifyPluginCallback<StepupFastifyOptions> = (fastify, opts, done) => {
  fastify.decorateRequest("stepup", null);
  fastify.addHook("onRequest", async (request, reply) => {
    const config = request.routeOptions.config?.stepup;
    if (config === false || request.is404) return;
    const result = await opts.guard.check(fastifyFacts(request), config);
    request.stepup = result;
    if (!result.answer.proceed) return reply.code(result.answer.status).headers(result.answer.headers).send(JSON.stringify(result.answer.body));
  });
  done();
};

// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child scope.
Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "stepup" });

/**
 * @example
 * await app.register(stepupFastify, { guard });
 * app.post("/admin/users", { config: { stepup: { app: "admin-console", action: "admin" } } }, handler);
 */
export const stepupFastify = plugin;

/**
 * The request as the collectors see it: the route's pattern, and the path as find-my-way routes
 * it (an absolute-form target from its path, percent-decoded as the router decodes), with the
 * readings its router options may give.
 */
export function fastifyFacts(request: FastifyRequest): RequestFacts {
  const path = fastifyPath(request.url);
  return {
    peer: request.raw.socket.remoteAddress,
    headers: request.headers,
    method: request.method,
    path,
    route: request.routeOptions.url ?? null,
    readings: fastifyReadings(path),
  };
}
