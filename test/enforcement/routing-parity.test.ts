/**
 * Routing parity: the same hostile request targets — absolute-form, dot segments plain and
 * encoded, encoded and doubled slashes, backslashes, `;` parameters, percent-encoded letters,
 * letter case — sent to every integration, each reached handler compared with the target stepup
 * decided for that very request. Express and Fastify run stepup app-wide with a fallback app of
 * the lowest tier (the setting under which `GET http://anything/payroll/42` once reached the
 * payroll handler on a decision made for the fallback). The Envoy server sits behind a stand-in
 * for Envoy (Envoy itself cannot run here): a Node HTTP front that asks the server over gRPC with
 * Envoy's own protos, as Envoy's ext_authz filter does, and forwards allowed requests to an
 * upstream — Express, Fastify, or a router on WHATWG URL paths — none of which knows stepup.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvoySettings } from "../../src/contracts/envoy.js";
import { stepupExpress } from "../../src/enforcement/express.js";
import { stepupFastify } from "../../src/enforcement/fastify.js";
import { ExtAuthzServer } from "../../src/enforcement/envoy/server.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { http } from "../support/http.js";
import { PARIS, makeWorld, type World } from "../support/world.js";

/** The handlers every app has, by the app each serves. */
const HANDLERS = [
  { method: "GET", path: "/wiki/:page", app: "wiki" },
  { method: "POST", path: "/admin/users", app: "admin-console" },
  { method: "GET", path: "/payroll/:id", app: "payroll" },
  { method: "GET", path: "/news", app: "intranet" },
] as const;

const FALLBACK = "intranet";

/** The same mapping as the edge settings' routes. */
const EDGE_ROUTES: NonNullable<EnvoySettings["targets"]>["routes"] = [
  { path: "/wiki/*", app: "wiki" },
  { methods: ["POST"], path: "/admin/users", app: "admin-console", action: "admin" },
  { methods: ["GET"], path: "/payroll/*", app: "payroll" },
  { methods: ["GET"], path: "/news", app: "intranet" },
];

/** Request targets as an attacker writes them, each aimed at a handler the mapping could miss. */
const TARGETS = [
  "/payroll/42",
  "http://anything/payroll/42",
  "https://anything/payroll/42",
  "HTTP://ANYTHING/payroll/42",
  "http://user@anything:80/payroll/42",
  "http://anything//payroll/42",
  "http://anything",
  "//payroll/42",
  "/payroll//42",
  "///payroll/42",
  "/wiki/../payroll/42",
  "/wiki/./../payroll/42",
  "/./payroll/42",
  "/wiki/%2e%2e/payroll/42",
  "/wiki/%2E%2E/payroll/42",
  "/wiki/.%2e/payroll/42",
  "/wiki/%252e%252e/payroll/42",
  "/payroll%2F42",
  "/payroll%2f42",
  "/wiki/a%2F..%2F..%2Fpayroll%2F42",
  "/wiki/..%2Fpayroll%2F42",
  "/wiki/..%5Cpayroll%5C42",
  "/wiki\\..\\payroll\\42",
  "/payroll\\42",
  "/PAYROLL/42",
  "/Payroll/42",
  "/pay%72oll/42",
  "/%70ayroll/42",
  "/PAY%52OLL/42",
  "/payroll/42/",
  "/payroll/42;x",
  "/payroll;x/42",
  "/wiki;/../payroll/42",
  "/payroll/42?next=/wiki/x",
  "/wiki/x?/../../payroll/42",
  "/wiki/x%3F/../../payroll/42",
  "/wiki/x%23/../../payroll/42",
  "/payroll/%2e%2e",
  "/payroll/42%00",
  "/wiki/home",
  "/wiki/%2e%2e",
  "/news",
  "/NEWS",
  "/news/",
  "/",
  "*",
];

interface Outcome {
  readonly integration: string;
  readonly token: string;
  readonly method: string;
  readonly target: string;
  readonly status: number;
  /** The app of the handler reached, if one was. */
  readonly handler: string | null;
  /** The app stepup decided for, if it decided. */
  readonly decided: string | null;
}

interface Running {
  readonly port: number;
  close(): Promise<void>;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function closing(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Express with stepup app-wide, or without stepup (an upstream behind the Envoy front). */
async function expressApp(world: World | null): Promise<Running> {
  const app = express();
  if (world) app.use(stepupExpress(world.guard));
  for (const h of HANDLERS) {
    app[h.method === "GET" ? "get" : "post"](h.path, (req, res) => {
      res.json({ handler: h.app, decision_id: req.stepup?.decision?.decision_id ?? req.headers["x-stepup-decision-id"] ?? null });
    });
  }
  const server = createServer(app);
  return { port: await listening(server), close: () => closing(server) };
}

/** Fastify with the stepup plugin, or without it. */
async function fastifyApp(world: World | null): Promise<Running> {
  const app = Fastify();
  if (world) await app.register(stepupFastify, { guard: world.guard });
  for (const h of HANDLERS) {
    app.route({
      method: h.method,
      url: h.path,
      handler: async (request) => ({ handler: h.app, decision_id: request.stepup?.decision?.decision_id ?? request.headers["x-stepup-decision-id"] ?? null }),
    });
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/**
 * A router that reads paths as a WHATWG URL parser does (backslashes as slashes, dot segments
 * resolved, `%2e` included) and matches segments case-insensitively: how many small Node servers route.
 */
async function whatwgApp(): Promise<Running> {
  const server = createServer((req, res) => {
    const segments = new URL(req.url ?? "/", "http://upstream").pathname.toLowerCase().split("/");
    const handler = HANDLERS.find((h) => {
      const pattern = h.path.split("/");
      return h.method === (req.method === "HEAD" ? "GET" : req.method) && pattern.length === segments.length && pattern.every((p, i) => (p.startsWith(":") ? segments[i] !== "" : p === segments[i]));
    });
    res.writeHead(handler ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(handler ? { handler: handler.app, decision_id: req.headers["x-stepup-decision-id"] ?? null } : { error: "not found" }));
  });
  return { port: await listening(server), close: () => closing(server) };
}

/**
 * The stand-in for Envoy: its HTTP/1 codec gives the check and the upstream the origin-form path
 * of an absolute-form target (without the fragment), the ext_authz filter sends a CheckRequest
 * with the request's method, path and headers, the source address and the time; on OK the
 * request goes upstream with the headers the answer adds, otherwise the denied answer goes back.
 */
async function envoyFront(client: NodeEnvoyClient, world: World, upstream: number): Promise<Running> {
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    void (async () => {
      const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(req.url ?? "/");
      let path = absolute ? (req.url ?? "/").slice(absolute[0].length) || "/" : (req.url ?? "/");
      path = path.split("#")[0]!;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const id = `front-${n++}`;
      const outcome = await client.check({
        attributes: {
          source: { address: { socket_address: { address: req.socket.remoteAddress, port_value: req.socket.remotePort } } },
          request: { time: { seconds: world.now }, http: { id, method: req.method, path, host: headers.host ?? "", headers } },
        },
      });
      const response = outcome.response as { status?: { code?: number }; ok_response?: { headers?: { header: { key: string; value: string } }[] }; denied_response?: { status?: { code?: number }; body?: string } } | null;
      if (outcome.code !== 0 || !response) {
        res.writeHead(503).end();
        return;
      }
      if ((response.status?.code ?? 0) !== 0) {
        res.writeHead(response.denied_response?.status?.code ?? 403, { "content-type": "application/json" }).end(response.denied_response?.body ?? "");
        return;
      }
      for (const { header } of response.ok_response?.headers ?? []) headers[header.key] = header.value;
      const answer = await http({ port: upstream, method: req.method ?? "GET", path, headers });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    })().catch(() => res.writeHead(502).end());
  });
  return { port: await listening(server), close: () => closing(server) };
}

describe("routing parity: a handler is reached only on a decision made for it", () => {
  let world: World;
  const running: Running[] = [];
  const integrations: { name: string; port: number }[] = [];
  let client: NodeEnvoyClient;
  let extAuthz: ExtAuthzServer;
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    world = await makeWorld({
      targets: {
        routes: HANDLERS.map((h) => ({ method: h.method, path: h.path, app: h.app, ...(h.app === "admin-console" ? { action: "admin" } : {}) })),
        fallbackApp: FALLBACK,
      },
    });
    const settings: EnvoySettings = { targets: { routes: EDGE_ROUTES, fallback_app: FALLBACK } };
    extAuthz = new ExtAuthzServer(world.guard, { settings, onError: () => {} });
    client = new NodeEnvoyClient(`127.0.0.1:${await extAuthz.listen()}`);
    const add = async (name: string, app: Promise<Running>) => {
      const r = await app;
      running.push(r);
      integrations.push({ name, port: r.port });
      return r;
    };
    await add("Express", expressApp(world));
    await add("Fastify", fastifyApp(world));
    for (const [name, upstream] of [
      ["Envoy server → Express", expressApp(null)],
      ["Envoy server → Fastify", fastifyApp(null)],
      ["Envoy server → WHATWG router", whatwgApp()],
    ] as const) {
      const up = await upstream;
      running.push(up);
      await add(name, envoyFront(client, world, up.port));
    }

    const weak = await world.accessToken({ sub: "alice@example.com", acr: "urn:pwd", amr: ["pwd"], auth_time: world.now - 60 });
    const strong = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now });
    const posture = await world.posture("laptop-1");
    for (const { name, port } of integrations) {
      for (const [tokenName, token] of [["password only", weak], ["phishing-resistant", strong]] as const) {
        for (const target of TARGETS) {
          for (const method of target.includes("admin") ? ["POST"] : ["GET", "POST"]) {
            const headers = { authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS };
            const res = await http({ port, method, path: target, headers });
            const handler = typeof res.body?.handler === "string" ? res.body.handler : null;
            const id = (res.body?.decision_id as string | undefined) ?? null;
            const decided = id ? (world.decisions.get(id)?.input.target.app ?? null) : null;
            outcomes.push({ integration: name, token: tokenName, method, target, status: res.status, handler, decided });
          }
        }
      }
    }
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await extAuthz?.close(1_000);
    for (const r of running) await r.close();
    await world?.close();
  });

  it("never reaches a handler on a decision made for another target", () => {
    const wrong = outcomes.filter((o) => o.handler !== null && o.decided !== o.handler);
    expect(wrong).toEqual([]);
  });

  it("reaches no payroll handler with a password-only session, whatever the target's spelling", () => {
    const reached = outcomes.filter((o) => o.token === "password only" && o.handler === "payroll");
    expect(reached).toEqual([]);
  });

  it("still serves the payroll handler to a session that qualifies, on every integration", () => {
    for (const { name } of integrations) {
      const served = outcomes.filter((o) => o.integration === name && o.token === "phishing-resistant" && o.handler === "payroll");
      expect(served.length, name).toBeGreaterThan(0);
      expect(served.some((o) => o.target === "/payroll/42"), name).toBe(true);
    }
    // The absolute-form target is the framework's own routing: decided as the payroll it reaches.
    for (const name of ["Express", "Fastify"]) {
      expect(outcomes.find((o) => o.integration === name && o.token === "phishing-resistant" && o.method === "GET" && o.target === "http://anything/payroll/42")).toMatchObject({ handler: "payroll", decided: "payroll" });
    }
  });

  it("denies behind Envoy what routers would read as different targets", () => {
    const ambiguous = outcomes.filter((o) => o.integration.startsWith("Envoy") && o.method === "GET" && ["/wiki/../payroll/42", "/payroll%2F42", "/PAYROLL/42", "/wiki\\..\\payroll\\42"].includes(o.target));
    expect(ambiguous.length).toBeGreaterThan(0);
    for (const o of ambiguous) expect(o).toMatchObject({ status: 403, handler: null });
  });
});

describe("the Envoy server refuses an ambiguous target whatever its failure mode", () => {
  let world: World;
  let server: ExtAuthzServer;
  let client: NodeEnvoyClient;

  beforeAll(async () => {
    world = await makeWorld();
    const settings: EnvoySettings = { targets: { routes: EDGE_ROUTES, fallback_app: FALLBACK } };
    server = new ExtAuthzServer(world.guard, { settings, failureMode: "allow", onError: () => {} });
    client = new NodeEnvoyClient(`127.0.0.1:${await server.listen()}`);
  });
  afterAll(async () => {
    client?.close();
    await server?.close(1_000);
    await world?.close();
  });

  const check = (path: string, extensions: Record<string, string> = {}) =>
    client.check({
      attributes: {
        source: { address: { socket_address: { address: "127.0.0.1", port_value: 40_000 } } },
        request: { time: { seconds: world.now }, http: { id: path, method: "GET", path, headers: { host: "x" } } },
        context_extensions: extensions,
      },
    });

  it("denies a path whose readings map to different targets, reason engine.failure with ERR_TARGET_AMBIGUOUS", async () => {
    const outcome = await check("/wiki/../payroll/42");
    const response = outcome.response as { status: { code: number }; denied_response?: { status: { code: number } }; dynamic_metadata?: unknown };
    expect(response.status.code).toBe(7);
    expect(response.denied_response?.status.code).toBe(403);
    expect(JSON.stringify(response.dynamic_metadata)).toContain("ERR_TARGET_AMBIGUOUS");
  });

  it("takes the target of Envoy's own route only for a path every router splits alike", async () => {
    const dotted = (await check("/wiki/../payroll/42", { stepup_app: "wiki" })).response as { status: { code: number } };
    expect(dotted.status.code).toBe(7);
    const plain = (await check("/wiki/Main%20Page", { stepup_app: "wiki" })).response as { status: { code: number }; dynamic_metadata?: unknown };
    expect(JSON.stringify(plain.dynamic_metadata)).not.toContain("ERR_TARGET");
  });
});
