/**
 * Fastify integration of the step-up login: a plugin adding an onRequest hook that answers the
 * provider's callback (whether or not a route is declared for it), sends the browser to the
 * provider when stepup asks for a step-up, and otherwise behaves as `stepupFastify` (continue on
 * allow with `request.stepup` set, 403 on deny; `config.stepup` names a route's target or opts it out).
 */
import type { FastifyPluginCallback } from "fastify";
import { fastifyFacts, type FastifyPlugin } from "../fastify.js";
import type { StepUpLogin } from "./browser.js";

export interface StepUpLoginFastifyOptions {
  readonly login: StepUpLogin;
}

const plugin: FastifyPluginCallback<StepUpLoginFastifyOptions> = (fastify, opts, done) => {
  if (!fastify.hasRequestDecorator("stepup")) fastify.decorateRequest("stepup", null);
  fastify.addHook("onRequest", async (request, reply) => {
    const facts = fastifyFacts(request);
    const callback = opts.login.isCallback(facts.path);
    const config = request.routeOptions.config?.stepup;
    if (!callback && (config === false || request.is404)) return;
    const answer = await opts.login.handle({ facts, url: request.url, ...(config && !callback ? { target: config } : {}) });
    for (const line of answer.setCookies) reply.header("set-cookie", line);
    if (answer.proceed) {
      request.stepup = answer.result;
      return;
    }
    reply.code(answer.status).headers(answer.headers);
    return reply.send(answer.body ? JSON.stringify(answer.body) : "");
  });
  done();
};

// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child scope.
Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "stepup-login" });

/**
 * @example
 * await app.register(stepUpLoginFastify, { login });
 */
export const stepUpLoginFastify: FastifyPlugin<StepUpLoginFastifyOptions> = plugin;
