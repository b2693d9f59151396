import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeysUnavailableError, TokenInvalidError } from "../../src/errors.js";
import { SessionVerifier, type SessionOptions } from "../../src/signals/session.js";
import { bearerToken } from "../../src/signals/collect.js";
import { VerifiedCache } from "../../src/signals/verified-cache.js";
import { newIssuer, tampered, unsigned, type Issuer } from "../support/keys.js";

const NOW = 1_795_852_800;
const AUD = "api://stepup-test";
let idp: Issuer;
let rogue: Issuer;
let dir: string;
let jwksFile: string;
let server: Server;
let jwksUrl: string;

beforeAll(async () => {
  idp = await newIssuer("https://idp.test");
  rogue = await newIssuer("https://idp.test"); // same issuer name, different key, same kid
  dir = await mkdtemp(join(tmpdir(), "stepup-session-"));
  jwksFile = join(dir, "jwks.json");
  await writeFile(jwksFile, JSON.stringify(idp.jwks));
  server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(idp.jwks)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const options = (over: Partial<SessionOptions> = {}): SessionOptions => ({ keys: { jwksFile }, issuer: "https://idp.test", audience: AUD, ...over });

function accessClaims(over: Record<string, unknown> = {}) {
  return { sub: "alice@example.com", aud: AUD, client_id: "web-app", jti: "j1", iat: NOW - 60, auth_time: NOW - 120, acr: "phr", amr: ["hwk"], ...over };
}

const at = (issuer: Issuer, over: Record<string, unknown> = {}) => issuer.sign(accessClaims(over), { typ: "at+jwt" });

describe("session from a verified access token (RFC 9068)", () => {
  it("reads acr, amr and auth_time, roles and groups, with keys from a JWKS file", async () => {
    const verifier = await SessionVerifier.create(options());
    const caller = await verifier.verify(await at(idp, { roles: ["admin"], groups: [{ value: "eng" }, 7] }), NOW);
    expect(caller).toEqual({
      subject: { id: "alice@example.com", kind: "human", roles: ["admin"], groups: ["eng"], tags: [], privilege_granted_at: null },
      session: { acr: "phr", amr: ["hwk"], auth_time: NOW - 120 },
      credential: null,
    });
  });

  it("fetches keys from a JWKS URL", async () => {
    const verifier = await SessionVerifier.create(options({ keys: { jwksUrl } }));
    expect((await verifier.verify(await at(idp), NOW)).session?.acr).toBe("phr");
  });

  it("accepts the media type form of the typ header", async () => {
    const verifier = await SessionVerifier.create(options());
    const token = await idp.sign(accessClaims(), { typ: "application/at+jwt" });
    expect((await verifier.verify(token, NOW)).subject.id).toBe("alice@example.com");
  });

  it("treats a client-credentials token as a service with an OAuth credential, never a session", async () => {
    const verifier = await SessionVerifier.create(options());
    const token = await idp.sign({ sub: "svc-billing", client_id: "svc-billing", aud: AUD, jti: "j2", iat: NOW - 10, exp: NOW + 300 }, { typ: "at+jwt" });
    expect(await verifier.verify(token, NOW)).toEqual({
      subject: { id: "svc-billing", kind: "service", roles: [], groups: [], tags: [], privilege_granted_at: null },
      session: null,
      credential: { type: "oauth_client_credentials", issued_at: NOW - 10, expires_at: NOW + 300, storage: null, spiffe_id: null },
    });
  });

  it("leaves malformed acr, amr and auth_time unknown instead of trusting them", async () => {
    const verifier = await SessionVerifier.create(options());
    const caller = await verifier.verify(await at(idp, { acr: 3, amr: "hwk", auth_time: "yesterday" }), NOW);
    expect(caller.session).toEqual({ acr: null, amr: null, auth_time: null });
  });

  it.each([
    ["expired", () => at(idp, { exp: NOW - 3600 }), "expired"],
    ["signed by another key", () => at(rogue), "signature"],
    ["tampered", async () => tampered(await at(idp), (c) => ({ ...c, acr: "phrh" })), "signature"],
    ["unsigned (alg none)", async () => unsigned(accessClaims({ iss: "https://idp.test", exp: NOW + 60 }), "at+jwt"), "algorithm"],
    ["of another issuer", async () => (await newIssuer("https://evil.test")).sign(accessClaims(), { typ: "at+jwt" }), "signature"],
    ["of another issuer's key id", async () => (await newIssuer("https://evil.test", "k9")).sign(accessClaims(), { typ: "at+jwt" }), "key"],
    ["signed by the trusted key for another issuer", () => at(idp, { iss: "https://evil.test" }), "claims"],
    ["for another audience", () => at(idp, { aud: "api://other" }), "claims"],
    ["an ID token where an access token is expected", () => idp.sign(accessClaims(), { typ: "JWT" }), "type"],
    ["missing client_id", () => at(idp, { client_id: undefined }), "claims"],
    ["not a JWT", async () => "not-a-jwt", "malformed"],
    ["garbage in three parts", async () => "a.b.c", "malformed"],
    ["huge", async () => `${"a".repeat(20_000)}.b.c`, "malformed"],
  ])("refuses a token that is %s", async (_name, make, reason) => {
    const verifier = await SessionVerifier.create(options());
    const err = await verifier.verify(await make(), NOW).catch((e) => e);
    expect(err).toBeInstanceOf(TokenInvalidError);
    expect((err as TokenInvalidError).reason).toBe(reason);
  });

  it("remembers a verified token only while it is valid, and never a forged twin", async () => {
    const verifier = await SessionVerifier.create(options());
    const token = await at(idp, { exp: NOW + 120 });
    expect((await verifier.verify(token, NOW)).session?.acr).toBe("phr");
    expect((await verifier.verify(token, NOW + 30)).session?.acr).toBe("phr");
    await expect(verifier.verify(tampered(token, (c) => ({ ...c, acr: "phrh" })), NOW + 30)).rejects.toThrow(TokenInvalidError);
    const late = await verifier.verify(token, NOW + 200).catch((e) => e);
    expect((late as TokenInvalidError).reason).toBe("expired");
  });

  it("verifies ID tokens when told to, without requiring at+jwt", async () => {
    const verifier = await SessionVerifier.create(options({ tokenKind: "id_token" }));
    const token = await idp.sign({ sub: "alice@example.com", aud: AUD, iat: NOW - 5, auth_time: NOW - 5, acr: "phrh" });
    expect((await verifier.verify(token, NOW)).session).toEqual({ acr: "phrh", amr: null, auth_time: NOW - 5 });
  });

  it("reports keys it cannot reach as unavailable, not as a bad token", async () => {
    const verifier = await SessionVerifier.create(options({ keys: { jwksUrl: "http://127.0.0.1:9/jwks", timeoutMs: 500 } }));
    await expect(verifier.verify(await at(idp), NOW)).rejects.toThrow(KeysUnavailableError);
    await expect(SessionVerifier.create(options({ keys: { jwksFile: join(dir, "missing.json") } }))).rejects.toThrow(KeysUnavailableError);
  });
});

describe("verified-token cache", () => {
  const verified = (payload: Record<string, number>) => ({ payload, typ: "at+jwt" });

  it("keeps an entry until expiry, maximum age or its own TTL, whichever is first", () => {
    const cache = new VerifiedCache(10, 300);
    cache.set("a", verified({ exp: NOW + 100 }), NOW);
    cache.set("b", verified({ exp: NOW + 1000 }), NOW);
    cache.set("c", verified({ exp: NOW + 1000, iat: NOW - 50 }), NOW, 60);
    expect([cache.get("a", NOW + 99), cache.get("a", NOW + 100)].map(Boolean)).toEqual([true, false]);
    expect([cache.get("b", NOW + 299), cache.get("b", NOW + 300)].map(Boolean)).toEqual([true, false]);
    expect([cache.get("c", NOW + 9), cache.get("c", NOW + 10)].map(Boolean)).toEqual([true, false]);
  });

  it("verifies again when the clock moved back, and stays bounded", () => {
    const cache = new VerifiedCache(2, 300);
    cache.set("a", verified({ exp: NOW + 100 }), NOW);
    expect(cache.get("a", NOW - 1)).toBeUndefined();
    for (const t of ["x", "y", "z"]) cache.set(t, verified({ exp: NOW + 100 }), NOW);
    expect(cache.size).toBe(2);
    expect(cache.get("x", NOW)).toBeUndefined();
    expect(new VerifiedCache(0).get("z", NOW)).toBeUndefined();
  });
});

describe("bearer tokens in the Authorization header", () => {
  it("takes the token of a Bearer credential, any case", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer  abc.def.ghi ")).toBe("abc.def.ghi");
  });

  it("ignores no header and other schemes", () => {
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken("Basic YWxpY2U6c2VjcmV0")).toBeNull();
    expect(bearerToken("Bearerish abc")).toBeNull();
  });

  it("refuses a malformed Bearer credential", () => {
    for (const header of ["Bearer", "Bearer ", "Bearer a b", "Bearer abc\u0000", "Bearer ä"]) {
      expect(() => bearerToken(header), header).toThrow(TokenInvalidError);
    }
  });
});
