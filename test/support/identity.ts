/**
 * What the identity-provider journeys share: the policy with a tuning that suits a password-then-
 * one-time-code provider (built into a bundle from a copy of rego/), a browser app protected by
 * stepup's step-up login on Express or Fastify, a bearer API for the API client, and a user who
 * fills the provider's forms.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import Fastify from "fastify";
import { buildBundle } from "../../src/bundle/build.js";
import type { Decision } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import { stepupExpress } from "../../src/enforcement/express.js";
import { Guard } from "../../src/enforcement/guard.js";
import { StepUpLogin } from "../../src/enforcement/oidc/browser.js";
import type { StepUpEvent } from "../../src/enforcement/oidc/events.js";
import { stepUpLoginExpress } from "../../src/enforcement/oidc/express.js";
import { stepUpLoginFastify } from "../../src/enforcement/oidc/fastify.js";
import { RelyingParty, type RelyingPartyOptions } from "../../src/enforcement/oidc/relying-party.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import { Signals } from "../../src/signals/collect.js";
import type { SessionOptions } from "../../src/signals/session.js";
import { Stepup } from "../../src/stepup.js";
import type { Browser, Page } from "./browser.js";

/**
 * The shipped policy tuned as a team whose provider offers a password (level 1) and a one-time code
 * (level 2), and whose apps have no device management, would tune it: the wiki is a low-tier app
 * (AAL1), and payroll is internal and standard-tier, so writing to it asks for AAL2 without
 * phishing resistance (the shipped catalog asks for a phishing-resistant authenticator, which a
 * one-time code is not); with no posture verifier configured, an unknown device counts for nothing
 * (the shipped weight counts it as the worst posture).
 */
export async function tunedBundle(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-idp-bundle-"));
  await cp("rego", join(dir, "rego"), { recursive: true });
  const dataPath = join(dir, "rego", "stepup", "config", "data.json");
  const data = JSON.parse(await readFile(dataPath, "utf8"));
  data.catalog.apps.wiki.tier = "low";
  data.catalog.apps.payroll.tier = "standard";
  data.catalog.apps.payroll.classification = "internal";
  data.weights["device.unknown"] = 0;
  await writeFile(dataPath, JSON.stringify(data, null, 2));
  const path = join(dir, "stepup-idp.tar.gz");
  await buildBundle({ regoDir: join(dir, "rego"), out: path, revision: "idp-test", optimize: false });
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const ROUTES = [
  { path: "/wiki/:page", app: "wiki" },
  { method: "POST", path: "/payroll/:id", app: "payroll", action: "write" },
  { method: "GET", path: "/payroll/:id", app: "payroll", action: "read" },
];

export interface Decided {
  readonly decision: Decision;
  readonly input: Input;
}

export interface BrowserApp {
  readonly origin: string;
  readonly login: StepUpLogin;
  readonly rp: RelyingParty;
  readonly store: MemoryBehaviorStore;
  readonly events: StepUpEvent[];
  readonly decisions: Map<string, Decided>;
  close(): Promise<void>;
}

/** A listening server whose request handler is attached later (the redirect URI must be known first). */
export async function listening(): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * The browser app: stepup's step-up login in front of a wiki page and the payroll API, on Express
 * or Fastify; handlers echo the decision and the session it was made on.
 */
export async function startBrowserApp(options: {
  framework: "express" | "fastify";
  bundlePath: string;
  rp: Omit<RelyingPartyOptions, "redirectUri">;
  session: Omit<SessionOptions, "keys">;
  at: { server: Server; origin: string };
}): Promise<BrowserApp> {
  const { server, origin } = options.at;
  const decisions = new Map<string, Decided>();
  const events: StepUpEvent[] = [];
  const stepup = await Stepup.load(options.bundlePath, {
    onError: () => {},
    onDecision: (e) => decisions.set(e.decision.decision_id, { decision: e.decision, input: e.input }),
  });
  const store = new MemoryBehaviorStore();
  const signals = await Signals.create({
    session: options.session,
    network: { zones: { corporate: ["127.0.0.1/32"] } },
    geo: false,
    behavior: { store },
    targets: { routes: ROUTES },
  });
  const guard = new Guard(stepup, signals, { onSignalError: () => {} });
  const rp = await RelyingParty.discover({ ...options.rp, redirectUri: `${origin}/auth/callback` });
  const login = new StepUpLogin({ guard, rp, cookieSecret: "a test secret of at least thirty-two characters", onEvent: (e) => events.push(e) });

  const echo = (stepup: { decision: Decision | null; collected: { input: Input } | null } | null | undefined) => ({
    ok: true,
    decision_id: stepup?.decision?.decision_id,
    subject: stepup?.collected?.input.subject.id,
    session: stepup?.collected?.input.session ?? null,
  });
  let close: () => Promise<void>;
  if (options.framework === "express") {
    const app = express();
    app.use(stepUpLoginExpress(login));
    app.get("/wiki/:page", (req, res) => void res.json(echo(req.stepup)));
    app.post("/payroll/:id", (req, res) => void res.json(echo(req.stepup)));
    server.on("request", app);
    close = () => new Promise((r) => server.close(() => r()));
  } else {
    const app = Fastify({ serverFactory: (handler) => (server.on("request", handler), server) });
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => done(null, body));
    await app.register(stepUpLoginFastify, { login });
    app.get("/wiki/:page", async (request) => echo(request.stepup));
    app.post("/payroll/:id", async (request) => echo(request.stepup));
    await app.ready();
    close = () => app.close();
  }
  return { origin, login, rp, store, events, decisions, close };
}

/** A bearer API (the payroll API of the API-client journey), protected by stepup's Express middleware. */
export async function startBearerApi(bundlePath: string, session: SessionOptions): Promise<{ origin: string; decisions: Map<string, Decided>; close(): Promise<void> }> {
  const decisions = new Map<string, Decided>();
  const stepup = await Stepup.load(bundlePath, {
    onError: () => {},
    onDecision: (e) => decisions.set(e.decision.decision_id, { decision: e.decision, input: e.input }),
  });
  const signals = await Signals.create({ session, network: { zones: { corporate: ["127.0.0.1/32"] } }, geo: false, behavior: { store: new MemoryBehaviorStore() }, targets: { routes: ROUTES } });
  const guard = new Guard(stepup, signals, { onSignalError: () => {} });
  const app = express();
  app.use(stepupExpress(guard));
  app.post("/payroll/:id", (req, res) => void res.json({ ok: true, decision_id: req.stepup?.decision?.decision_id, session: req.stepup?.collected?.input.session }));
  const { server, origin } = await listening();
  server.on("request", app);
  return { origin, decisions, close: () => new Promise((r) => server.close(() => r())) };
}

export interface FormSelectors {
  readonly login: string;
  readonly otp: string;
}

export const KEYCLOAK_FORMS: FormSelectors = { login: "#kc-form-login", otp: "#kc-otp-login-form" };
export const OIDC_PROVIDER_FORMS: FormSelectors = { login: "form#login", otp: "form#otp" };

/**
 * Fills whatever forms the provider shows, as its user would, until it lets the browser go: the
 * password form, the one-time code form (the code computed from the account's TOTP secret).
 * Returns the last page and the forms filled, in order.
 */
export async function fillForms(
  browser: Browser,
  page: Page,
  forms: FormSelectors,
  user: { username: string; password: string; code: () => string },
): Promise<{ page: Page; filled: ("login" | "otp")[]; trail: string[] }> {
  const filled: ("login" | "otp")[] = [];
  const trail = [...page.trail];
  for (let i = 0; i < 6; i++) {
    if (browser.has(page, forms.login)) {
      filled.push("login");
      page = await browser.submit(page, forms.login, { username: user.username, password: user.password });
    } else if (browser.has(page, forms.otp)) {
      filled.push("otp");
      page = await browser.submit(page, forms.otp, { otp: user.code() });
    } else {
      return { page, filled, trail };
    }
    trail.push(...page.trail);
  }
  throw new Error(`the provider kept showing forms: ${filled.join(", ")}`);
}

/** The authorization requests among the URLs a browser went through, as their query parameters. */
export function authorizationRequests(trail: readonly string[], issuerPrefix: string, path: string): URLSearchParams[] {
  return trail.filter((u) => u.startsWith(`${issuerPrefix}/`) && new URL(u).pathname.endsWith(path)).map((u) => new URL(u).searchParams);
}

export function json(page: Page): Record<string, unknown> {
  return JSON.parse(page.text) as Record<string, unknown>;
}
