/**
 * The step-up loop against a real OpenID Provider (panva's oidc-provider, started cold on
 * loopback), driven as a browser drives it: redirects followed, the provider's password and
 * one-time-code forms submitted with a cookie jar, the code computed from the account's TOTP
 * secret. The app is protected by stepup's step-up login (Express, then Fastify); the provider
 * is configured as docs/identity-providers.md says for a generic provider. A second provider
 * ignores the acr asked for: the app reports it (ERR_STEP_UP_NOT_MET, one event) after one retry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser } from "../support/browser.js";
import {
  authorizationRequests,
  fillForms,
  json,
  listening,
  OIDC_PROVIDER_FORMS,
  startBrowserApp,
  tunedBundle,
  type BrowserApp,
} from "../support/identity.js";
import { RelyingParty } from "../../src/enforcement/oidc/relying-party.js";
import { SessionVerifier, type MissingClaimsReport } from "../../src/signals/session.js";
import { AAL1, AAL2, ACCOUNTS, PAYROLL_API, startOidcProvider, totp, type RunningProvider } from "../support/oidc-provider.js";

const CLIENT = { clientId: "stepup-web", clientSecret: "stepup-web-secret-for-tests" };
let bundle: Awaited<ReturnType<typeof tunedBundle>>;

beforeAll(async () => {
  bundle = await tunedBundle();
});
afterAll(async () => {
  await bundle?.cleanup();
});

const now = () => Math.floor(Date.now() / 1000);

describe.each(["express", "fastify"] as const)("the step-up loop with oidc-provider, on %s", (framework) => {
  let provider: RunningProvider;
  let app: BrowserApp;
  const browser = new Browser();
  const carol = ACCOUNTS[0]!;
  const user = { username: carol.id, password: carol.password, code: () => totp(carol.totpSecret) };
  let firstAuthTime = 0;
  let origin = "";

  beforeAll(async () => {
    const at = await listening();
    origin = at.origin;
    provider = await startOidcProvider({ ...CLIENT, redirectUris: [`${at.origin}/auth/callback`, `${at.origin}/direct`], accessTokenSessionClaims: true });
    app = await startBrowserApp({
      framework,
      bundlePath: bundle.path,
      at,
      rp: { issuer: provider.issuer, ...CLIENT, profile: "generic", scope: "openid profile" },
      session: { issuer: provider.issuer, audience: CLIENT.clientId, tokenKind: "id_token", profile: "generic" },
    });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.stop();
  });

  it("signs in at level 1 with a password, and the wiki is allowed", async () => {
    const start = await browser.go(`${app.origin}/wiki/home`);
    const [asked] = authorizationRequests(start.trail, provider.issuer, "/auth");
    expect(asked?.get("acr_values")).toBe(AAL1);
    expect(JSON.parse(asked?.get("claims") ?? "{}")).toEqual({ id_token: { acr: { essential: true, values: [AAL1] } } });
    expect(asked?.get("prompt")).toBe("login");
    expect(asked?.get("code_challenge_method")).toBe("S256");
    const { page, filled } = await fillForms(browser, start, OIDC_PROVIDER_FORMS, user);
    expect(filled).toEqual(["login"]);
    expect(page.url).toBe(`${app.origin}/wiki/home`);
    expect(page.status).toBe(200);
    const body = json(page);
    expect(body.ok).toBe(true);
    expect(body.session).toMatchObject({ acr: AAL1, amr: ["pwd"] });
    firstAuthTime = (body.session as { auth_time: number }).auth_time;
    expect(Math.abs(firstAuthTime - now())).toBeLessThanOrEqual(5);
    expect(app.decisions.get(body.decision_id as string)?.decision.outcome).toBe("allow");
  });

  it("answers a payroll write with a step-up to level 2: the one-time code, a higher acr, a fresh auth_time", async () => {
    const before = now();
    const refused = await browser.go(`${app.origin}/payroll/7`, { method: "POST", form: { amount: "100" }, headers: { referer: `${app.origin}/wiki/home` } });
    const [asked] = authorizationRequests(refused.trail, provider.issuer, "/auth");
    expect(asked?.get("acr_values")).toBe(AAL2);
    expect(JSON.parse(asked?.get("claims") ?? "{}")).toEqual({ id_token: { acr: { essential: true, values: [AAL2] } } });
    expect(asked?.get("prompt")).toBe("login");
    expect(Number(asked?.get("max_age"))).toBeGreaterThan(0);
    const { page, filled } = await fillForms(browser, refused, OIDC_PROVIDER_FORMS, user);
    expect(filled).toEqual(["login", "otp"]);
    // Back where the write was made from; the browser submits it again.
    expect(page.url).toBe(`${app.origin}/wiki/home`);
    const write = await browser.go(`${app.origin}/payroll/7`, { method: "POST", form: { amount: "100" } });
    expect(write.status).toBe(200);
    const body = json(write);
    expect(body.session).toMatchObject({ acr: AAL2, amr: ["pwd", "otp"] });
    const authTime = (body.session as { auth_time: number }).auth_time;
    expect(authTime).toBeGreaterThanOrEqual(before);
    expect(authTime).toBeGreaterThanOrEqual(firstAuthTime);
    expect(app.decisions.get(body.decision_id as string)?.decision.outcome).toBe("allow");
    expect(app.events.map((e) => e.type)).toEqual(["step_up_started", "step_up_completed", "step_up_started", "step_up_completed"]);
  });

  it("recorded the step-up's prompt and the completed step-up as a login in the behaviour store", async () => {
    const seen = await app.store.observe(carol.id, { now: now(), features: { asn: null, country: null, location: null, device: null, attestation: "none", browser: null, hour: "weekday-0", app: "wiki" } });
    expect(seen.promptsRecent).toBe(1); // the sign-in had no subject yet; the step-up did
    expect(seen.last?.time).toBeGreaterThanOrEqual(firstAuthTime);
  });

  it("issues tokens the generic profile reads into the same session: the ID token and the RFC 9068 access token", async () => {
    const rp = await RelyingParty.discover({ issuer: provider.issuer, ...CLIENT, redirectUri: `${origin}/direct`, profile: "generic", scope: "openid profile payroll" });
    const { url, pending } = await rp.begin({ acrValues: [AAL2], maxAge: 600 }, now());
    const landed = await fillForms(browser, await browser.go(url.href), OIDC_PROVIDER_FORMS, user);
    const completed = await rp.complete(new URL(landed.page.url), pending, now());
    expect(completed.assessment).toMatchObject({ met: true, acr: AAL2 });
    const header = (t: string) => JSON.parse(Buffer.from(t.split(".")[0]!, "base64url").toString()) as { typ?: string };
    expect(header(completed.accessToken).typ).toBe("at+jwt");
    const id = await SessionVerifier.create({ issuer: provider.issuer, audience: CLIENT.clientId, tokenKind: "id_token" });
    const access = await SessionVerifier.create({ issuer: provider.issuer, audience: PAYROLL_API });
    const fromId = await id.verify(completed.idToken, now());
    const fromAccess = await access.verify(completed.accessToken, now());
    expect(fromId.session).toEqual({ acr: AAL2, amr: ["pwd", "otp"], auth_time: completed.claims.auth_time });
    expect(fromAccess.session).toEqual(fromId.session);
    expect(fromAccess.subject).toMatchObject({ id: carol.id, kind: "human" });
  });

  it("takes a tampered session cookie, or a bearer token the browser sends, for no session at all", async () => {
    const cookies = await browser.jar.getCookies(app.origin);
    const session = cookies.find((c) => c.key === "stepup_session")!;
    const forged = new Browser();
    const value = session.value.slice(0, -8) + (session.value.endsWith("AAAAAAAA") ? "BBBBBBBB" : "AAAAAAAA");
    await forged.jar.setCookie(`stepup_session=${value}; Path=/`, app.origin);
    const res = await forged.go(`${app.origin}/wiki/home`, { headers: { authorization: "Bearer not.a.token" } });
    expect(res.url.startsWith(`${provider.issuer}/`)).toBe(true); // sent to sign in
    expect(forged.has(res, OIDC_PROVIDER_FORMS.login)).toBe(true);
  });

  it("refuses a callback nobody started, or one replayed", async () => {
    const res = await browser.go(`${app.origin}/auth/callback?code=forged&state=forged`);
    expect(res.status).toBe(400);
    expect(json(res)).toMatchObject({ error: "invalid_callback", code: "ERR_IDP_CALLBACK" });
  });
});

describe("a provider that ignores the acr asked for", () => {
  let provider: RunningProvider;
  let app: BrowserApp;
  const browser = new Browser();
  const dave = ACCOUNTS[1]!;
  const user = { username: dave.id, password: dave.password, code: () => totp(dave.totpSecret) };
  let origin = "";

  beforeAll(async () => {
    const at = await listening();
    origin = at.origin;
    provider = await startOidcProvider({ ...CLIENT, redirectUris: [`${at.origin}/auth/callback`, `${at.origin}/direct`], ignoresAcr: true });
    app = await startBrowserApp({
      framework: "express",
      bundlePath: bundle.path,
      at,
      rp: { issuer: provider.issuer, ...CLIENT, profile: "generic", scope: "openid profile" },
      session: { issuer: provider.issuer, audience: CLIENT.clientId, tokenKind: "id_token", profile: "generic" },
    });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.stop();
  });

  it("is reported with ERR_STEP_UP_NOT_MET and one log event after one retry, never a loop", async () => {
    const signIn = await fillForms(browser, await browser.go(`${app.origin}/wiki/home`), OIDC_PROVIDER_FORMS, user);
    expect(signIn.page.status).toBe(200);
    const pagesBefore = provider.pages.length;
    const refused = await browser.go(`${app.origin}/payroll/7`, { method: "POST", form: { amount: "100" } });
    const { page, filled, trail } = await fillForms(browser, refused, OIDC_PROVIDER_FORMS, user);
    // The first answer (level 1 again) is retried once with prompt=login; the second is reported.
    expect(filled).toEqual(["login", "login"]);
    expect(provider.pages.length - pagesBefore).toBe(2);
    expect(page.status).toBe(403);
    expect(json(page)).toMatchObject({ error: "step_up_not_met", code: "ERR_STEP_UP_NOT_MET" });
    const asked = authorizationRequests(trail, provider.issuer, "/auth");
    expect(asked.map((a) => a.get("prompt"))).toEqual(["login", "login"]);
    const notMet = app.events.filter((e) => e.type === "step_up_not_met");
    expect(notMet).toHaveLength(1);
    expect(notMet[0]).toMatchObject({ profile: "generic", subject: dave.id, attempt: 2, code: "ERR_STEP_UP_NOT_MET", received: { acr: AAL1 } });
    expect(notMet[0]?.required?.acrValues).toEqual([AAL2]);
    expect(app.events.map((e) => e.type)).toEqual(["step_up_started", "step_up_completed", "step_up_started", "step_up_retry", "step_up_not_met"]);
  });

  it("issues RFC 9068 access tokens without acr or auth_time by default, which stepup reports once", async () => {
    const rp = await RelyingParty.discover({ issuer: provider.issuer, ...CLIENT, redirectUri: `${origin}/direct`, profile: "generic", scope: "openid profile payroll" });
    const { url, pending } = await rp.begin({ acrValues: [AAL1], maxAge: null }, now());
    const landed = await fillForms(browser, await browser.go(url.href), OIDC_PROVIDER_FORMS, user);
    const completed = await rp.complete(new URL(landed.page.url), pending, now());
    const reports: MissingClaimsReport[] = [];
    const access = await SessionVerifier.create({ issuer: provider.issuer, audience: PAYROLL_API, onMissingClaims: (r) => reports.push(r) });
    const caller = await access.verify(completed.accessToken, now());
    expect(caller.session).toEqual({ acr: null, amr: null, auth_time: null });
    expect(reports).toEqual([expect.objectContaining({ profile: "generic", tokenKind: "access_token", missing: ["acr", "amr", "auth_time"] })]);
    // The ID token of the same sign-in carries them.
    const id = await SessionVerifier.create({ issuer: provider.issuer, audience: CLIENT.clientId, tokenKind: "id_token" });
    expect((await id.verify(completed.idToken, now())).session).toMatchObject({ acr: AAL1, amr: ["pwd"] });
  });
});
