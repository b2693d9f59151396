/**
 * Fastify integration: a plugin adding an onRequest hook that collects, decides and answers —
 * continue on allow, 401 with the RFC 9470 challenge on step_up, 403 with the decision id and
 * reason codes on deny — and sets `request.stepup`. A route may name its target in
 * `config.stepup`, or opt out with `config.stepup: false`; otherwise the route mapping applies:
 * the rule naming the route's own pattern, else the rules matching the path as Fastify routes it.
 * The hook runs after Fastify routed the request, so the pattern is the handler's. Requests that
 * match no route are left to Fastify's 404.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyPluginCallback } from "fastify";
import type { RequestFacts } from "../signals/request.js";
import { fastifyPath, fastifyReadings } from "../signals/request-path.js";
import type { TargetOverride } from "../signals/target.js";
import type { Guard, GuardResult } from "./guard.js";


export interface StepupFastifyOptions {
  readonly guard: Guard;
}

/**
 * A plugin as Fastify registers it (assignable to Fastify's `FastifyPluginCallback`). Declared
 * here rather than imported from fastify, an optional peer, so the package's types compile
 * without it; `import type {} from "stepup/fastify"` types `request.stepup` and `config.stepup`.
 */
export type FastifyPlugin<Options> = (
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Fastify instance, whatever its server and type provider
  instance: any,
  options: Options,
  done: (err?: Error) => void,
) => void;

/** The parts of a Fastify request stepup reads; Fastify's own `FastifyRequest` has them. */
export interface FastifyRequestLike {
  readonly raw: { readonly socket: { readonly remoteAddress?: string | undefined } };
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly url: string;
  readonly routeOptions: { readonly url?: string | undefined };
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
export const stepupFastify: FastifyPlugin<StepupFastifyOptions> = plugin;

/**
 * The request as the collectors see it: the route's pattern, and the path as find-my-way routes
 * it (an absolute-form target from its path, percent-decoded as the router decodes), with the
 * readings its router options may give.
 */
export function fastifyFacts(request: FastifyRequestLike): RequestFacts {
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
