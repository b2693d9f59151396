/**
 * `stepup/fastify`: what stepup adds to Fastify's types — `request.stepup` and a route's
 * `config.stepup`. Kept apart from the entry point because fastify is an optional peer: the
 * package's types compile without it, and a Fastify app adds these with
 * `import type {} from "stepup/fastify"`.
 */
import type { TargetOverride } from "../signals/target.js";
import type { GuardResult } from "./guard.js";

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
