/**
 * The step-up loop against a real Keycloak 26, started cold on loopback with the realm of
 * test/fixtures/identity/keycloak-realm.json: the ACR-to-LoA map pwd = 1, mfa = 2, a browser flow
 * with a password at level 1 and a conditional OTP step at level 2, users with a password and a
 * TOTP credential. Driven as a browser would (redirects, Keycloak's own login and OTP forms, a
 * cookie jar, codes computed from the fixture's secrets):
 *   - the browser journey through stepup's step-up login, on Express and Fastify;
 *   - the API-client journey: a bearer API answers RFC 9470's challenge, StepUpFetch gets a token
 *     meeting it from Keycloak and the retried call succeeds;
 *   - Keycloak's real ID and access tokens decoded by the keycloak profile into session signals;
 *   - a max_age shorter than the session's age makes Keycloak authenticate afresh.
 * Without Keycloak installed the suite skips, saying so; under CI=true that fails instead.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StepUpFetch } from "../../src/enforcement/oidc/api-client.js";
import type { StepUpEvent } from "../../src/enforcement/oidc/events.js";
import { RelyingParty } from "../../src/enforcement/oidc/relying-party.js";
import { SessionVerifier } from "../../src/signals/session.js";
import { Browser } from "../support/browser.js";
import {
  authorizationRequests,
  fillForms,
  json,
  KEYCLOAK_FORMS,
  listening,
  startBearerApi,
  startBrowserApp,
  tunedBundle,
  type BrowserApp,
} from "../support/identity.js";
import { keycloakUnavailable, startKeycloak, type Keycloak } from "../support/keycloak.js";

const AAL1 = "http://idmanagement.gov/ns/assurance/aal/1";
const AAL2 = "http://idmanagement.gov/ns/assurance/aal/2";
const WEB = { clientId: "stepup-web", clientSecret: "stepup-web-secret" };
const unavailable = keycloakUnavailable();
if (unavailable && process.env.CI === "true") throw new Error(`CI=true and ${unavailable}`);
if (unavailable) console.warn(`skipping the Keycloak suite: ${unavailable}`);

const now = () => Math.floor(Date.now() / 1000);
const user = (name: string) => ({
  username: name,
  password: `${name}-password-1`,
  code: () => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromUTF8(`${name}-totp-secret-2026`), digits: 6, period: 30, algorithm: "SHA1" }).generate(),
});

describe.skipIf(unavailable !== null)("Keycloak 26", () => {
  let keycloak: Keycloak;
  let bundle: Awaited<ReturnType<typeof tunedBundle>>;

  beforeAll(async () => {
    [keycloak, bundle] = await Promise.all([startKeycloak(), tunedBundle()]);
    console.info(`Keycloak ${keycloak.issuer} served discovery ${keycloak.startedInSec.toFixed(1)} s after a cold start`);
  }, 240_000);
  afterAll(async () => {
    await keycloak?.stop();
    await bundle?.cleanup();
  }, 60_000);

  describe.each([
    ["express", "alice"],
    ["fastify", "bob"],
  ] as const)("the step-up loop through stepup's login on %s", (framework, name) => {
    let app: BrowserApp;
    const browser = new Browser();
    let firstAuthTime = 0;

    beforeAll(async () => {
      app = await startBrowserApp({
        framework,
        bundlePath: bundle.path,
        at: await listening(),
        rp: { issuer: keycloak.issuer, ...WEB, profile: "keycloak" },
        session: { issuer: keycloak.issuer, audience: WEB.clientId, tokenKind: "id_token", profile: "keycloak" },
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("signs in at level 1 (Keycloak's password form, acr pwd) and the wiki is allowed", async () => {
      const start = await browser.go(`${app.origin}/wiki/home`);
      const [asked] = authorizationRequests(start.trail, keycloak.issuer, "/protocol/openid-connect/auth");
      expect(asked?.get("acr_values")).toBe("pwd");
      expect(JSON.parse(asked?.get("claims") ?? "{}")).toEqual({ id_token: { acr: { essential: true, values: ["pwd"] } } });
      expect(asked?.get("prompt")).toBeNull();
      const { page, filled } = await fillForms(browser, start, KEYCLOAK_FORMS, user(name));
      expect(filled).toEqual(["login"]);
      expect(page.url).toBe(`${app.origin}/wiki/home`);
      const body = json(page);
      expect(body.session).toMatchObject({ acr: AAL1, amr: ["pwd"] });
      firstAuthTime = (body.session as { auth_time: number }).auth_time;
      expect(Math.abs(firstAuthTime - now())).toBeLessThanOrEqual(5);
      expect(app.decisions.get(body.decision_id as string)?.decision.outcome).toBe("allow");
    });

    it("steps a payroll write up to level 2 with Keycloak's OTP form, then allows it", async () => {
      const refused = await browser.go(`${app.origin}/payroll/7`, { method: "POST", form: { amount: "100" }, headers: { referer: `${app.origin}/wiki/home` } });
      const [asked] = authorizationRequests(refused.trail, keycloak.issuer, "/protocol/openid-connect/auth");
      expect(asked?.get("acr_values")).toBe("mfa");
      expect(JSON.parse(asked?.get("claims") ?? "{}")).toEqual({ id_token: { acr: { essential: true, values: ["mfa"] } } });
      const maxAge = Number(asked?.get("max_age"));
      expect(maxAge).toBeGreaterThan(0);
      const { page, filled } = await fillForms(browser, refused, KEYCLOAK_FORMS, user(name));
      // Keycloak's session already holds level 1: the step-up asks for the one-time code only.
      expect(filled).toEqual(["otp"]);
      expect(page.url).toBe(`${app.origin}/wiki/home`);
      const write = await browser.go(`${app.origin}/payroll/7`, { method: "POST", form: { amount: "100" } });
      expect(write.status).toBe(200);
      const body = json(write);
      expect(body.session).toMatchObject({ acr: AAL2, amr: ["pwd", "otp"] });
      // Keycloak keeps the session's authentication time on a step-up within max_age: fresh for the requirement.
      const authTime = (body.session as { auth_time: number }).auth_time;
      expect(authTime).toBeGreaterThanOrEqual(firstAuthTime);
      expect(now() - authTime).toBeLessThanOrEqual(maxAge);
      expect(app.decisions.get(body.decision_id as string)?.decision.outcome).toBe("allow");
      expect(app.events.map((e) => e.type)).toEqual(["step_up_started", "step_up_completed", "step_up_started", "step_up_completed"]);
      // The step-up was recorded in the behaviour store: its prompt, and the login it completed.
      const seen = await app.store.observe(body.subject as string, { now: now(), features: { asn: null, country: null, location: null, device: null, attestation: "none", browser: null, hour: "weekday-0", app: "wiki" } });
      expect(seen.promptsRecent).toBe(1);
      expect(seen.last?.time).toBeGreaterThanOrEqual(firstAuthTime);
    });
  });

  describe("an API client answering RFC 9470's challenge", () => {
    it("gets a token meeting the challenge from Keycloak, and the retried call succeeds", async () => {
      const api = await startBearerApi(bundle.path, { issuer: keycloak.issuer, audience: "payroll-api", tokenKind: "access_token", profile: "keycloak" });
      // The native app's loopback redirect: a page saying the window may be closed.
      const loopback = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("You may close this window."));
      await new Promise<void>((r) => loopback.listen(0, "127.0.0.1", r));
      const redirectUri = `http://127.0.0.1:${(loopback.address() as AddressInfo).port}/callback`;
      const events: StepUpEvent[] = [];
      try {
        const rp = await RelyingParty.discover({ issuer: keycloak.issuer, clientId: "stepup-cli", redirectUri, profile: "keycloak" });
        const browser = new Browser();
        const filled: string[] = [];
        const client = new StepUpFetch({
          rp,
          onEvent: (e) => events.push(e),
          authorize: async (url) => {
            const result = await fillForms(browser, await browser.go(url.href), KEYCLOAK_FORMS, user("erin"));
            filled.push(...result.filled);
            return new URL(result.page.url);
          },
        });
        const signedIn = await client.signIn({ acrValues: [AAL1], maxAge: null });
        expect(signedIn.session.acr).toBe(AAL1);
        expect(filled).toEqual(["login"]);

        const res = await client.fetch(`${api.origin}/payroll/7`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { decision_id: string; session: { acr: string } };
        expect(body.session.acr).toBe(AAL2);
        expect(filled).toEqual(["login", "otp"]);
        // The first call was challenged with the policy's requirement, exactly as RFC 9470 writes it.
        const decisions = [...api.decisions.values()];
        expect(decisions.map((d) => d.decision.outcome)).toEqual(["step_up", "allow"]);
        const requirement = decisions[0]!.decision.requirement;
        expect(requirement).toMatchObject({ kind: "session", acr_values: [AAL2] });
        expect(events.map((e) => e.type)).toEqual(["step_up_started", "step_up_started", "step_up_completed"]);
        expect(events[1]?.required).toEqual({ acrValues: [AAL2], maxAge: (requirement as { max_age: number }).max_age });
      } finally {
        await new Promise((r) => loopback.close(r));
        await api.close();
      }
    });
  });

  describe("the keycloak profile on Keycloak's own tokens", () => {
    it("decodes the ID token and the access token (typ JWT, azp, no client_id) into the same session signals", async () => {
      const { server, origin } = await listening();
      server.on("request", (_req, res) => res.end("ok"));
      try {
        const rp = await RelyingParty.discover({ issuer: keycloak.issuer, clientId: "stepup-cli", redirectUri: `${origin}/cb`, profile: "keycloak" });
        const browser = new Browser();
        const { url, pending } = await rp.begin({ acrValues: [AAL2], maxAge: 600 }, now());
        const landed = await fillForms(browser, await browser.go(url.href), KEYCLOAK_FORMS, user("frank"));
        expect(landed.filled).toEqual(["login", "otp"]);
        const completed = await rp.complete(new URL(landed.page.url), pending, now());
        expect(completed.assessment).toMatchObject({ met: true, acr: "mfa" });

        const idVerifier = await SessionVerifier.create({ issuer: keycloak.issuer, audience: "stepup-cli", tokenKind: "id_token", profile: "keycloak" });
        const accessVerifier = await SessionVerifier.create({ issuer: keycloak.issuer, audience: "payroll-api", tokenKind: "access_token", profile: "keycloak" });
        const fromId = await idVerifier.verify(completed.idToken, now());
        const fromAccess = await accessVerifier.verify(completed.accessToken, now());
        expect(fromId.session).toEqual({ acr: AAL2, amr: ["pwd", "otp"], auth_time: completed.claims.auth_time });
        expect(fromAccess.session).toEqual(fromId.session);
        expect(fromAccess.subject).toMatchObject({ id: completed.claims.sub, kind: "human" });
        // Keycloak's default shapes: typ JWT on both, azp and no client_id on the access token.
        const header = (t: string) => JSON.parse(Buffer.from(t.split(".")[0]!, "base64url").toString()) as { typ?: string };
        const payload = (t: string) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
        expect([header(completed.idToken).typ, header(completed.accessToken).typ]).toEqual(["JWT", "JWT"]);
        expect(payload(completed.accessToken)).toMatchObject({ azp: "stepup-cli", typ: "Bearer" });
        expect(payload(completed.accessToken).client_id).toBeUndefined();
        // The generic (RFC 9068) shape refuses the same token: Keycloak needs its profile.
        const strict = await SessionVerifier.create({ issuer: keycloak.issuer, audience: "payroll-api", profile: "generic" });
        await expect(strict.verify(completed.accessToken, now())).rejects.toMatchObject({ code: "ERR_TOKEN_INVALID" });
        // An ID token is never taken for an access token, even with the audience it names.
        const confused = await SessionVerifier.create({ issuer: keycloak.issuer, audience: "stepup-cli", tokenKind: "access_token", profile: "keycloak" });
        await expect(confused.verify(completed.idToken, now())).rejects.toMatchObject({ code: "ERR_TOKEN_INVALID", reason: "claims" });

        // A max_age shorter than the session's age: Keycloak asks for the password again, and auth_time moves.
        await new Promise((r) => setTimeout(r, 2_100));
        const again = await rp.begin({ acrValues: [AAL1], maxAge: 1 }, now());
        const reauth = await fillForms(browser, await browser.go(again.url.href), KEYCLOAK_FORMS, user("frank"));
        expect(reauth.filled).toEqual(["login"]);
        const fresher = await rp.complete(new URL(reauth.page.url), again.pending, now());
        expect(fresher.session.auth_time).toBeGreaterThan(completed.session.auth_time!);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });
});
