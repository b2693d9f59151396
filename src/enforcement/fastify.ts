/**
 * Fastify integration: a plugin adding an onRequest hook that collects, decides and answers —
 * continue on allow, 401 with the RFC 9470 challenge on step_up, 403 with the decision id and
 * reason codes on deny — and sets `request.stepup`. A route may name its target in
 * `config.stepup`, or opt out with `config.stepup: false`; otherwise the route mapping applies
 * (matched on the route's own pattern). Requests that match no route are left to Fastify's 404.
 */
import type { FastifyPluginCallback, FastifyRequest } from "fastify";
import type { RequestFacts } from "../signals/request.js";
import { pathOf } from "../signals/request.js";
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

/** The request as the collectors see it. */
export function fastifyFacts(request: FastifyRequest): RequestFacts {
  return {
    peer: request.raw.socket.remoteAddress,
    headers: request.headers,
    method: request.method,
    path: pathOf(request.url),
    route: request.routeOptions.url ?? null,
  };
}
