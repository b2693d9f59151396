/**
 * The identity-provider profiles on tokens in the shapes Entra ID (v2.0), Okta and Auth0 document
 * for their defaults, signed here with test keys (those providers cannot run on this machine; the
 * Keycloak and oidc-provider suites decode real tokens): each provider's own token type accepted,
 * its acr values translated into the policy's, and all of them read into the same session signals.
 * Then OpenID Connect discovery by issuer against a loopback issuer: the document checked, the
 * key set cached, fetched again for an unknown key id. And the authorization parameters and the
 * challenge parsing each profile implies.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { challengeRequirement } from "../../src/enforcement/oidc/api-client.js";
import { assess, authorizationParameters } from "../../src/enforcement/oidc/requirement.js";
import { IdpDiscoveryError, IdpProfileInvalidError, IdpRequirementUnsupportedError, TokenInvalidError } from "../../src/errors.js";
import { discover } from "../../src/signals/discovery.js";
import { identityProvider } from "../../src/signals/idp/profile.js";
import { SessionVerifier, type MissingClaimsReport, type SessionOptions } from "../../src/signals/session.js";

const AAL1 = "http://idmanagement.gov/ns/assurance/aal/1";
const AAL2 = "http://idmanagement.gov/ns/assurance/aal/2";
const PAPE_MFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
const NOW = 1_796_000_000;
const AUTH_TIME = NOW - 300;

interface TestKey {
  readonly jwk: JWK;
  sign(payload: JWTPayload, typ: string | null, kid?: string): Promise<string>;
}

async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return {
    jwk,
    sign: (payload, typ, keyId = kid) =>
      new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: keyId, ...(typ === null ? {} : { typ }) }).sign(privateKey),
  };
}

let key: TestKey;
beforeAll(async () => {
  key = await testKey("provider-key-1");
});

const verifier = (options: Omit<SessionOptions, "keys">) => SessionVerifier.create({ ...options, keys: { jwks: { keys: [key.jwk] } }, onMissingClaims: () => {} });

// The documented default shapes, with the session of one user who stepped up to a second factor 5 minutes ago.
const ENTRA_ISSUER = "https://login.microsoftonline.com/0f3a8b4c-1d2e-4f5a-9b6c-7d8e9f0a1b2c/v2.0";
const entraAccessToken = (over: JWTPayload = {}) => ({
  aud: "6e74172b-be56-4843-9ff4-e66a39bb12e3",
  iss: ENTRA_ISSUER,
  iat: NOW - 60,
  nbf: NOW - 60,
  exp: NOW + 3600,
  aio: "opaque",
  azp: "2d4d11a2-f814-46a7-890a-274a72a7309e",
  azpacr: "1",
  acrs: ["c1"],
  auth_time: AUTH_TIME, // the optional claim auth_time, added in the app registration
  oid: "8f0d2c1a-6a53-4f4e-bd7b-2f0b8c9d1e2f",
  scp: "payroll.write",
  sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
  tid: "0f3a8b4c-1d2e-4f5a-9b6c-7d8e9f0a1b2c",
  uti: "AbCdEf123456",
  ver: "2.0",
  xms_cc: ["cp1"],
  ...over,
});
const OKTA_ISSUER = "https://example.okta.com/oauth2/default";
const oktaAccessToken = (over: JWTPayload = {}) => ({
  ver: 1,
  jti: "AT.5G3k9wXq",
  iss: OKTA_ISSUER,
  aud: "api://default",
  iat: NOW - 60,
  exp: NOW + 3600,
  cid: "0oa1b2c3d4e5f6g7h8i9",
  uid: "00u1a2b3c4d5e6f7g8h9",
  scp: ["openid", "payroll"],
  auth_time: AUTH_TIME,
  sub: "alice@example.com",
  acr: "urn:okta:loa:2fa:any",
  ...over,
});
const oktaIdToken = (over: JWTPayload = {}) => ({
  sub: "00u1a2b3c4d5e6f7g8h9",
  ver: 1,
  iss: OKTA_ISSUER,
  aud: "0oa1b2c3d4e5f6g7h8i9",
  iat: NOW - 60,
  exp: NOW + 3600,
  jti: "ID.7hQ2",
  amr: ["pwd", "otp", "mfa"],
  idp: "00o1a2b3c4",
  auth_time: AUTH_TIME,
  acr: "urn:okta:loa:2fa:any",
  ...over,
});
const AUTH0_ISSUER = "https://example.eu.auth0.com/";
const auth0IdToken = (over: JWTPayload = {}) => ({
  iss: AUTH0_ISSUER,
  sub: "auth0|64f1c2d3e4",
  aud: "Xy7Zq2Wv9Tu4",
  iat: NOW - 60,
  exp: NOW + 36000,
  sid: "s1",
  acr: PAPE_MFA,
  amr: ["mfa"],
  auth_time: AUTH_TIME,
  ...over,
});
const auth0AccessToken = (over: JWTPayload = {}) => ({
  iss: AUTH0_ISSUER,
  sub: "auth0|64f1c2d3e4",
  aud: ["https://payroll.example/api", "https://example.eu.auth0.com/userinfo"],
  iat: NOW - 60,
  exp: NOW + 86400,
  scope: "openid payroll:write",
  azp: "Xy7Zq2Wv9Tu4",
  // Auth0 reserves acr, amr and auth_time; the post-login Action copies them under these names.
  stepup_acr: PAPE_MFA,
  stepup_amr: ["mfa"],
  stepup_auth_time: AUTH_TIME,
  ...over,
});

describe("tokens in each provider's documented default shape", () => {
  it.each([
    ["Entra ID v2 access token (typ JWT, azp, acrs)", "entra-id", "access_token", ENTRA_ISSUER, "6e74172b-be56-4843-9ff4-e66a39bb12e3", () => entraAccessToken(), "JWT", null],
    ["Okta access token (no typ, cid)", "okta", "access_token", OKTA_ISSUER, "api://default", () => oktaAccessToken(), null, null],
    ["Okta ID token (no typ)", "okta", "id_token", OKTA_ISSUER, "0oa1b2c3d4e5f6g7h8i9", () => oktaIdToken(), null, ["pwd", "otp", "mfa"]],
    ["Auth0 ID token (typ JWT, PAPE acr)", "auth0", "id_token", AUTH0_ISSUER, "Xy7Zq2Wv9Tu4", () => auth0IdToken(), "JWT", ["mfa"]],
    ["Auth0 access token (typ JWT, the Action's claims)", "auth0", "access_token", AUTH0_ISSUER, "https://payroll.example/api", () => auth0AccessToken(), "JWT", ["mfa"]],
    ["Auth0 access token in the RFC 9068 profile (typ at+jwt)", "auth0", "access_token", AUTH0_ISSUER, "https://payroll.example/api", () => auth0AccessToken(), "at+jwt", ["mfa"]],
  ] as const)("%s reads as AAL2 within the same auth_time", async (_name, profile, tokenKind, issuer, audience, claims, typ, amr) => {
    const v = await verifier({ issuer, audience, tokenKind, profile });
    const caller = await v.verify(await key.sign(claims(), typ), NOW);
    expect(caller.subject.kind).toBe("human");
    expect(caller.session).toEqual({ acr: AAL2, amr, auth_time: AUTH_TIME });
  });

  it.each([
    ["an Entra token with the RFC 9068 typ", "entra-id", ENTRA_ISSUER, "6e74172b-be56-4843-9ff4-e66a39bb12e3", () => entraAccessToken(), "at+jwt", "type"],
    ["an Entra token without azp", "entra-id", ENTRA_ISSUER, "6e74172b-be56-4843-9ff4-e66a39bb12e3", () => entraAccessToken({ azp: undefined }), "JWT", "claims"],
    ["an Okta token with a typ header", "okta", OKTA_ISSUER, "api://default", () => oktaAccessToken(), "JWT", "type"],
    ["an Okta token without cid", "okta", OKTA_ISSUER, "api://default", () => oktaAccessToken({ cid: undefined }), null, "claims"],
    ["an Okta token without jti", "okta", OKTA_ISSUER, "api://default", () => oktaAccessToken({ jti: undefined }), null, "claims"],
    ["an Okta-shaped token for the generic RFC 9068 profile (no client_id)", "generic", OKTA_ISSUER, "api://default", () => oktaAccessToken(), null, "claims"],
  ] as const)("refuses %s", async (_name, profile, issuer, audience, claims, typ, reason) => {
    const v = await verifier({ issuer, audience, profile });
    const err = await v.verify(await key.sign(claims(), typ), NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenInvalidError);
    expect((err as TokenInvalidError).reason).toBe(reason);
  });

  it("takes the strongest of Entra's authentication contexts, and drops one the profile does not map", async () => {
    const v = await verifier({ issuer: ENTRA_ISSUER, audience: "6e74172b-be56-4843-9ff4-e66a39bb12e3", profile: "entra-id" });
    const both = await v.verify(await key.sign(entraAccessToken({ acrs: ["c2", "c1"] }), "JWT"), NOW);
    expect(both.session?.acr).toBe("phr");
    const unknown = await v.verify(await key.sign(entraAccessToken({ acrs: ["c9"] }), "JWT"), NOW);
    expect(unknown.session?.acr).toBeNull();
    const malformed = await v.verify(await key.sign(entraAccessToken({ acrs: "c1" }), "JWT"), NOW);
    expect(malformed.session?.acr).toBeNull();
  });

  it("translates Okta's one-factor values to AAL1 and keeps an unknown Okta value out of the policy", async () => {
    const v = await verifier({ issuer: OKTA_ISSUER, audience: "api://default", profile: "okta" });
    for (const [acr, expected] of [
      ["urn:okta:loa:1fa:any", AAL1],
      ["urn:okta:loa:1fa:pwd", AAL1],
      ["phr", "phr"],
      ["urn:okta:loa:2fa:any:ifpossible", null],
    ] as const) {
      const caller = await v.verify(await key.sign(oktaAccessToken({ acr, jti: `AT.${acr}` }), null), NOW);
      expect(caller.session?.acr, acr).toBe(expected);
    }
  });

  it("reports once that RFC 9068 access tokens lack the session claims, naming what to enable", async () => {
    const reports: MissingClaimsReport[] = [];
    const v = await SessionVerifier.create({ issuer: "https://op.example", audience: "api", keys: { jwks: { keys: [key.jwk] } }, onMissingClaims: (r) => reports.push(r) });
    const bare = { iss: "https://op.example", aud: "api", sub: "alice", client_id: "web", jti: "j", iat: NOW - 5, exp: NOW + 60 };
    for (const jti of ["j1", "j2"]) await v.verify(await key.sign({ ...bare, jti }, "at+jwt"), NOW);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ profile: "generic", tokenKind: "access_token", missing: ["acr", "amr", "auth_time"], byDefault: [] });
    expect(reports[0]?.settings.join(" ")).toMatch(/extraTokenClaims/);
  });

  it("refuses a profile patch that breaks the contract, naming the field", () => {
    const err = (() => {
      try {
        identityProvider("keycloak", { acr: [{ value: "gold" } as never] });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(IdpProfileInvalidError);
    expect((err as IdpProfileInvalidError).issues.map((i) => i.path)).toContain("patch.acr[0].acr");
    expect(() => identityProvider("ping" as never)).toThrow(IdpProfileInvalidError);
    expect(() => identityProvider("constructor" as never)).toThrow(IdpProfileInvalidError);
  });
});

describe("asking each provider for a step-up", () => {
  const req = { acrValues: [AAL2], maxAge: 900 };

  it.each([
    ["generic", { acr_values: AAL2, claims: JSON.stringify({ id_token: { acr: { essential: true, values: [AAL2] } } }), max_age: "900", prompt: "login" }],
    ["keycloak", { acr_values: "mfa", claims: JSON.stringify({ id_token: { acr: { essential: true, values: ["mfa"] } } }), max_age: "900" }],
    ["okta", { acr_values: "urn:okta:loa:2fa:any", max_age: "900" }],
    ["auth0", { acr_values: PAPE_MFA, max_age: "900" }],
    ["entra-id", { claims: JSON.stringify({ access_token: { acrs: { essential: true, value: "c1" } } }), prompt: "login" }],
  ] as const)("%s", (profile, expected) => {
    expect(authorizationParameters(req, identityProvider(profile), 1)).toEqual(expected);
  });

  it("adds prompt=login to the one retry, and refuses a requirement the profile cannot express", () => {
    expect(authorizationParameters(req, identityProvider("keycloak"), 2).prompt).toBe("login");
    expect(() => authorizationParameters({ acrValues: ["phrh"], maxAge: 300 }, identityProvider("keycloak"), 1)).toThrow(IdpRequirementUnsupportedError);
  });

  it("judges an answer by the profile's order of strength and by max_age", () => {
    const keycloak = identityProvider("keycloak");
    const okta = identityProvider("okta");
    expect(assess({ acr: "mfa", auth_time: NOW - 10 }, req, keycloak, NOW).met).toBe(true);
    expect(assess({ acr: "pwd", auth_time: NOW - 10 }, req, keycloak, NOW).shortfalls).toEqual(["acr"]);
    expect(assess({ acr: "mfa", auth_time: NOW - 2000 }, req, keycloak, NOW).shortfalls).toEqual(["auth_time"]);
    expect(assess({ acr: "mfa" }, req, keycloak, NOW).shortfalls).toEqual(["auth_time"]);
    // Stronger than asked is enough: phishing-resistant where two factors were asked for.
    expect(assess({ acr: "phr", auth_time: NOW }, req, okta, NOW).met).toBe(true);
    expect(assess({ acr: "urn:okta:loa:1fa:pwd", auth_time: NOW }, req, okta, NOW).met).toBe(false);
  });

  it("reads RFC 9470 challenges and Entra's claims challenges", () => {
    const bearer = (parameters: Record<string, string>) => [{ scheme: "Bearer", parameters }];
    expect(challengeRequirement(bearer({ error: "insufficient_user_authentication", acr_values: `${AAL2} phr`, max_age: "300" }))).toEqual({ acrValues: [AAL2, "phr"], maxAge: 300 });
    expect(challengeRequirement(bearer({ acr_values: AAL1, max_age: "86400" }))).toEqual({ acrValues: [AAL1], maxAge: 86400 });
    expect(challengeRequirement(bearer({ error: "invalid_token" }))).toBeNull();
    expect(challengeRequirement(bearer({ error: "insufficient_user_authentication", max_age: "soon" }))).toBeNull();
    expect(challengeRequirement(bearer({ error: "insufficient_claims", claims: Buffer.from("not json").toString("base64") }))).toBeNull();
    const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: "c1" } } });
    const entra = challengeRequirement(bearer({ error: "insufficient_claims", claims: Buffer.from(claims).toString("base64") }));
    expect(entra).toEqual({ acrValues: [], maxAge: null, claims });
    expect(authorizationParameters(entra!, identityProvider("entra-id"), 1)).toEqual({ claims, prompt: "login" });
  });
});

describe("OpenID Connect discovery by issuer", () => {
  let server: Server;
  let issuer: string;
  let keys: JWK[];
  const fetched = { discovery: 0, jwks: 0 };
  let document: (issuer: string) => Record<string, unknown>;

  beforeAll(async () => {
    keys = [key.jwk];
    document = (iss) => ({ issuer: iss, jwks_uri: `${iss}/keys`, authorization_endpoint: `${iss}/authorize` });
    server = createServer((req, res) => {
      const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.url === "/.well-known/openid-configuration") return fetched.discovery++, json(document(issuer));
      if (req.url === "/other/.well-known/openid-configuration") return json(document("https://elsewhere.example"));
      if (req.url === "/keys") return fetched.jwks++, json({ keys });
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const token = (signer: TestKey, jti: string) =>
    signer.sign({ iss: issuer, aud: "api", sub: "alice", client_id: "web", jti, iat: NOW - 5, exp: NOW + 60, acr: AAL2, auth_time: AUTH_TIME }, "at+jwt");

  it("finds the keys from the issuer alone, caches them, and fetches again for an unknown key id", async () => {
    const options = { issuer, audience: "api", keys: { issuer, cooldownMs: 0 }, onMissingClaims: () => {} };
    const [a, b] = await Promise.all([SessionVerifier.create(options), SessionVerifier.create(options)]);
    expect(fetched.discovery).toBe(1); // one document for the issuer, whoever asks
    for (const jti of ["t1", "t2", "t3"]) expect((await a.verify(await token(key, jti), NOW)).session?.acr).toBe(AAL2);
    expect(fetched.jwks).toBe(1);
    // The provider rotates its key: a token with the new kid makes the verifier fetch the set again.
    const rotated = await testKey("provider-key-2");
    keys = [rotated.jwk, key.jwk];
    expect((await a.verify(await token(rotated, "t4"), NOW)).session?.acr).toBe(AAL2);
    expect(fetched.jwks).toBe(2);
    expect((await a.verify(await token(key, "t5"), NOW)).subject.id).toBe("alice");
    expect(fetched.jwks).toBe(2);
    // A key id the provider never published is refused, after one more look.
    const stranger = await testKey("provider-key-9");
    await expect(a.verify(await token(stranger, "t6"), NOW)).rejects.toMatchObject({ code: "ERR_TOKEN_INVALID", reason: "key" });
    expect((await b.verify(await token(rotated, "t7"), NOW)).subject.id).toBe("alice");
  });

  it("refuses a document that names another issuer, and one out of reach", async () => {
    await expect(discover(`${issuer}/other`)).rejects.toBeInstanceOf(IdpDiscoveryError);
    await expect(discover("http://idp.example")).rejects.toThrow(/neither https nor http on loopback/);
    await expect(discover(`${issuer}/missing`, { timeoutMs: 2_000 })).rejects.toThrow(/did not answer with a document/);
    await expect(SessionVerifier.create({ issuer: [issuer, "https://b.example"], audience: "api" })).rejects.toMatchObject({ code: "ERR_SIGNAL_CONFIG_INVALID" });
  });
});
