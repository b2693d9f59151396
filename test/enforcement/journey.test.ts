/**
 * The end-to-end journey, through a real HTTP client, against an Express app and a Fastify app
 * protected by stepup. Every answer is checked against the decision the SDK made for that very
 * request (status, the exact RFC 9470 header built from that decision's requirement, the body);
 * outcomes are asserted only where any sane policy must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import { UNATTESTED } from "../../src/signals/device.js";
import { greatCircleKm } from "../../src/signals/great-circle.js";
import { http, type HttpResponse } from "../support/http.js";
import { LYON, PARIS, TOKYO, makeWorld, type World } from "../support/world.js";
import { expressApp, fastifyApp, type AppFactory, type RunningApp } from "./apps.js";

const RANK = { allow: 0, step_up: 1, deny: 2 } as const;

/** RFC 9470's challenge for a decision, written out here independently of src/enforcement. */
function expectedChallenge(decision: Decision, hadToken: boolean): string {
  const req = decision.requirement;
  if (req.kind !== "session") throw new Error("not a session requirement");
  const codes = decision.reasons.map((r) => r.code);
  const level = codes.some((c) => c === "session.aal_insufficient" || c === "session.not_phishing_resistant");
  const recency = codes.some((c) => c === "session.too_old" || c === "session.auth_time_invalid");
  const description = level && recency
    ? "A different authentication level and more recent authentication are required"
    : level ? "A different authentication level is required" : recency ? "More recent authentication is required" : "Stronger authentication is required";
  const params = hadToken ? [`error="insufficient_user_authentication"`, `error_description="${description}"`] : [];
  if (req.acr_values.length > 0) params.push(`acr_values="${req.acr_values.join(" ")}"`);
  params.push(`max_age="${req.max_age}"`);
  return `Bearer ${params.join(", ")}`;
}

describe.each<[string, AppFactory]>([
  ["Express", expressApp],
  ["Fastify", fastifyApp],
])("journey through %s", (_name, factory) => {
  let world: World;
  let app: RunningApp;
  let mfaToken: string;
  let strongToken: string;

  beforeAll(async () => {
    world = await makeWorld();
    app = await factory(world.guard);
  });
  afterAll(async () => {
    await app?.close();
    await world?.close();
  });

  async function call(req: { method?: string; path: string; token?: string; posture?: string; xff?: string; from?: string }) {
    const headers: Record<string, string> = {};
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    if (req.posture) headers["x-device-posture"] = req.posture;
    if (req.xff) headers["x-forwarded-for"] = req.xff;
    const res = await http({ port: app.port, method: req.method ?? "GET", path: req.path, headers, ...(req.from ? { from: req.from } : {}) });
    const id = res.body?.decision_id as string | undefined;
    const made = id ? world.decisions.get(id) : undefined;
    if (!made) throw new Error(`no decision for response ${res.status} ${JSON.stringify(res.body)}`);
    expectAnswer(res, made.decision, req.token !== undefined);
    return { res, ...made };
  }

  /** The HTTP answer is the one the decision calls for. */
  function expectAnswer(res: HttpResponse, decision: Decision, hadToken: boolean) {
    const codes = decision.reasons.map((r) => r.code);
    if (decision.outcome === "allow") {
      expect(res.status).toBe(200);
      expect(res.headers["www-authenticate"]).toBeUndefined();
    } else if (decision.outcome === "step_up" && decision.requirement.kind === "session") {
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toBe(expectedChallenge(decision, hadToken));
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toMatchObject({ error: "insufficient_user_authentication", decision_id: decision.decision_id, reasons: codes });
    } else {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: "access_denied", decision_id: decision.decision_id, reasons: codes });
    }
  }

  it("allows a normal login on the corporate network, and records it", async () => {
    mfaToken = await world.accessToken({ sub: "alice@example.com", acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"], auth_time: world.now - 60 });
    const posture = await world.posture("laptop-1");
    const login = await call({ method: "POST", path: "/login/complete", token: mfaToken, posture, xff: PARIS });
    expect(login.res.body).toMatchObject({ recorded: true });
    const { res, decision, input } = await call({ path: "/wiki/home", token: mfaToken, posture, xff: PARIS });
    expect(decision.outcome).toBe("allow");
    expect(res.body).toMatchObject({ ok: true });
    expect(input.network).toMatchObject({ ip: PARIS, zone: "corporate", anonymizer: "none", asn: 64500 });
    expect(input.device).toMatchObject({ id: "laptop-1", attested: true, managed: true });
    expect(input.session).toEqual({ acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"], auth_time: world.now - 60 });
    expect(input.geo).toMatchObject({ country: "FR", distance_km: 0 });
    expect(input.familiarity?.history).toBeGreaterThan(0);
    for (const feature of ["device", "country", "asn"] as const) expect(input.familiarity?.unfamiliar).not.toContain(feature);
  });

  it("answers a new device on an admin action with 401 and the exact RFC 9470 challenge", async () => {
    world.now += 600;
    const { res, decision, input } = await call({ method: "POST", path: "/admin/users", token: mfaToken, posture: await world.posture("laptop-2"), xff: PARIS });
    expect(input.familiarity?.unfamiliar).toContain("device");
    expect(decision.outcome).toBe("step_up");
    expect(res.status).toBe(401);
    const req = decision.requirement;
    expect(req).toMatchObject({ kind: "session", aal: "aal3", phishing_resistant: true });
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="[^"]+", max_age="\d+"$/);
  });

  it("then allows the admin action with a fresh phishing-resistant AAL3 token", async () => {
    world.now += 60;
    strongToken = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now });
    const posture = await world.posture("laptop-2");
    const { decision, input } = await call({ method: "POST", path: "/admin/users", token: strongToken, posture, xff: PARIS });
    expect(decision.outcome).toBe("allow");
    expect(input.session?.auth_time).toBe(world.now);
    await call({ method: "POST", path: "/login/complete", token: strongToken, posture, xff: PARIS });
  });

  it("steps up or denies a login from another continent an hour later, never more leniently than a nearby one", async () => {
    const loginAt = world.now;
    world.now += 3600;
    // A new two-factor login in Tokyo: impossible travel since Paris raises the risk to high, which
    // asks for phishing-resistant proof that this session does not carry.
    const token = await world.accessToken({ sub: "alice@example.com", acr: "http://idmanagement.gov/ns/assurance/aal/2", amr: ["pwd", "otp"], auth_time: world.now });
    const { res, decision, input } = await call({ path: "/wiki/home", token, posture: await world.posture("laptop-2"), xff: TOKYO });
    expect(decision.outcome).not.toBe("allow");
    expect(decision.risk.contributions.map((c) => c.signal)).toContain("geo.impossible_travel");
    expect(res.status).toBe(decision.outcome === "deny" ? 403 : 401);
    expect(input.geo).toMatchObject({ country: "JP", accuracy_km: 50, previous: { country: "FR", accuracy_km: 20, time: loginAt, anonymized: false } });
    expect(input.geo?.distance_km).toBeCloseTo(greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 35.6762, lon: 139.6503 }), 0);
    expect(input.familiarity?.unfamiliar).toEqual(expect.arrayContaining(["country", "asn"]));
    expect(input.familiarity?.unfamiliar).not.toContain("device");
    expect(input.network).toMatchObject({ zone: "external", asn: 64502 });
    // The same request from Lyon (392 km, same country) is the nearby twin.
    const nearby: Input = {
      ...input,
      network: { ...input.network, ip: LYON, asn: 64501 },
      geo: { ...input.geo!, country: "FR", lat: 45.764, lon: 4.8357, accuracy_km: 10, distance_km: 392 },
      familiarity: { ...input.familiarity!, novelty: 0, unfamiliar: [] },
    };
    expect(RANK[decision.outcome]).toBeGreaterThanOrEqual(RANK[world.stepup.decideInput(nearby).outcome]);
  });

  it("treats a tampered device-posture JWT as unattested, exactly as if none were sent", async () => {
    const genuine = await world.posture("laptop-2", { compliant: false });
    const [h, p, s] = genuine.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), compliant: true })).toString("base64url")}.${s}`;
    const withForged = await call({ path: "/payroll/7", token: strongToken, posture: forged, xff: PARIS });
    const without = await call({ path: "/payroll/7", token: strongToken, xff: PARIS });
    expect(withForged.input.device).toEqual(UNATTESTED);
    expect(without.input.device).toEqual(UNATTESTED);
    const { decision_id: _a, ...a } = withForged.decision;
    const { decision_id: _b, ...b } = without.decision;
    expect(a).toEqual(b);
    expect(withForged.res.status).toBe(without.res.status);
  });

  it("ignores a spoofed X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const posture = await world.posture("laptop-2");
    const spoofed = await call({ path: "/wiki/home", token: strongToken, posture, xff: PARIS, from: "127.0.0.2" });
    const plain = await call({ path: "/wiki/home", token: strongToken, posture, from: "127.0.0.2" });
    expect(spoofed.input.network).toEqual({ ip: "127.0.0.2", zone: "external", reputation: null, anonymizer: "none", asn: null });
    expect(spoofed.input.network).toEqual(plain.input.network);
    const { decision_id: _a, ...a } = spoofed.decision;
    const { decision_id: _b, ...b } = plain.decision;
    expect(a).toEqual(b);
  });

  it("answers a token that does not verify with RFC 6750 invalid_token, deciding nothing", async () => {
    const before = world.decisions.size;
    const res = await http({ port: app.port, path: "/wiki/home", headers: { authorization: `Bearer ${strongToken.slice(0, -4)}AAAA`, "x-forwarded-for": PARIS } });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer error="invalid_token", error_description="The access token is invalid"');
    expect(res.body).toEqual({ error: "invalid_token", error_description: "The access token is invalid" });
    expect(world.decisions.size).toBe(before);
  });

  it("challenges a request with no token without an error code, still naming what to ask for", async () => {
    const { res, decision } = await call({ path: "/payroll/1", xff: PARIS });
    expect(decision.outcome).toBe("step_up");
    const req = decision.requirement as { acr_values: string[]; max_age: number };
    expect(res.headers["www-authenticate"]).toBe(`Bearer acr_values="${req.acr_values.join(" ")}", max_age="${req.max_age}"`);
  });
});

describe("Fastify specifics", () => {
  let world: World;
  let app: RunningApp;
  beforeAll(async () => {
    world = await makeWorld();
    app = await fastifyApp(world.guard);
  });
  afterAll(async () => {
    await app?.close();
    await world?.close();
  });

  it("leaves routes marked stepup: false alone, and unknown routes to Fastify's 404", async () => {
    expect(await http({ port: app.port, path: "/health" })).toMatchObject({ status: 200, body: { up: true } });
    expect((await http({ port: app.port, path: "/nowhere" })).status).toBe(404);
    expect(world.decisions.size).toBe(0);
  });
});
