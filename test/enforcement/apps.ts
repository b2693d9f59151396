/**
 * The two protected test apps, Express and Fastify, wired the same way: stepup on every route,
 * a login-completion endpoint that records the login (what an app does after its OIDC callback),
 * and handlers that echo the decision stepup attached to the request.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { stepupExpress } from "../../src/enforcement/express.js";
import { stepupFastify } from "../../src/enforcement/fastify.js";
import type { Guard } from "../../src/enforcement/guard.js";

export interface RunningApp {
  readonly port: number;
  close(): Promise<void>;
}

export type AppFactory = (guard: Guard) => Promise<RunningApp>;

export const expressApp: AppFactory = async (guard) => {
  const app = express();
  app.post("/login/complete", stepupExpress(guard, { target: { app: "intranet", action: "read" } }), async (req, res) => {
    await guard.recordLogin(req.stepup!);
    res.json({ recorded: true, decision_id: req.stepup?.decision?.decision_id });
  });
  app.use(stepupExpress(guard));
  const echo = (req: express.Request, res: express.Response) => {
    res.json({ ok: true, decision_id: req.stepup?.decision?.decision_id });
  };
  app.get("/wiki/:page", echo);
  app.post("/admin/users", echo);
  app.get("/payroll/:id", echo);
  app.get("/news", echo);
  const server = await new Promise<import("node:http").Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
};

export const fastifyApp: AppFactory = async (guard) => {
  const app = Fastify();
  await app.register(stepupFastify, { guard });
  app.post("/login/complete", { config: { stepup: { app: "intranet", action: "read" } } }, async (request) => {
    await guard.recordLogin(request.stepup!);
    return { recorded: true, decision_id: request.stepup?.decision?.decision_id };
  });
  const echo = async (request: import("fastify").FastifyRequest) => ({ ok: true, decision_id: request.stepup?.decision?.decision_id });
  app.get("/wiki/:page", echo);
  app.post("/admin/users", echo);
  app.get("/payroll/:id", echo);
  app.get("/news", echo);
  app.get("/health", { config: { stepup: false } }, async () => ({ up: true }));
  await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    port: (app.server.address() as AddressInfo).port,
    close: () => app.close(),
  };
};
