/**
 * Malformed tokens, posture statements, addresses and headers: each is a typed error or an
 * unknown signal, never a crash, and never an allow that the same request without it would not
 * get. Property-based, through the guard that both HTTP integrations use.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuardResult } from "../../src/enforcement/guard.js";
import { UNATTESTED } from "../../src/signals/device.js";
import { normalizeIp } from "../../src/contracts/address.js";
import type { RequestFacts } from "../../src/signals/request.js";
import { tampered } from "../support/keys.js";
import { PARIS, makeWorld, type World } from "../support/world.js";

const RANK = { allow: 0, step_up: 1, deny: 2 } as const;
const RUNS = { numRuns: 40 };
let world: World;
let token: string;
let posture: string;

beforeAll(async () => {
  // Learning would change the history between two checks of the same request; these properties
  // compare requests that differ only in what is malformed.
  world = await makeWorld({ guard: { learn: false } });
  token = await world.accessToken({ sub: "alice@example.com", acr: "phrh", amr: ["hwk"], auth_time: world.now - 30 });
  posture = await world.posture("laptop-1");
});
afterAll(async () => {
  await world?.close();
});

function facts(headers: Record<string, string | undefined>, over: Partial<RequestFacts> = {}): RequestFacts {
  const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return { peer: "127.0.0.1", method: "GET", path: "/payroll/7", route: null, headers: clean, ...over };
}

const base = () => ({ authorization: `Bearer ${token}`, "x-device-posture": posture, "x-forwarded-for": PARIS });

/** Same outcome, requirement and reasons: the decision without its id. */
function same(a: GuardResult, b: GuardResult) {
  const strip = (r: GuardResult) => {
    const { decision_id: _id, ...rest } = r.decision!;
    return rest;
  };
  expect(strip(a)).toEqual(strip(b));
  expect(a.answer.status).toBe(b.answer.status);
}

const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom("Bearer", "Bearer ", "Bearer a.b", "Bearer ...", "bearer \u0000", "Basic Zm9vOmJhcg==", "Bearer eyJhbGciOiJub25lIn0.e30.", "x".repeat(20_000)),
  fc.base64String().map((b) => `Bearer ${b}`),
  fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`.replace(/[+/=]/g, "_")),
);

describe("malformed input never crashes and never helps", () => {
  it("a malformed Authorization header is 401 invalid_token or no session at all", async () => {
    const withoutToken = await world.guard.check(facts({ ...base(), authorization: undefined }));
    await fc.assert(
      fc.asyncProperty(junk, async (header) => {
        const result = await world.guard.check(facts({ ...base(), authorization: header }));
        if (result.error?.code === "ERR_TOKEN_INVALID") {
          expect(result.answer.status).toBe(401);
          expect(result.answer.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
          expect(result.decision).toBeNull();
        } else {
          same(result, withoutToken);
        }
      }),
      RUNS,
    );
  });

  it("a tampered, forged or garbage posture statement is the same as none", async () => {
    const withoutPosture = await world.guard.check(facts({ ...base(), "x-device-posture": undefined }));
    const forged = tampered(posture, (c) => ({ ...c, compliant: true, managed: true, sub: "laptop-9" }));
    const statements = fc.oneof(junk, fc.constant(forged), fc.constant(`${posture}.extra`), fc.constant(`${posture}, ${posture}`));
    await fc.assert(
      fc.asyncProperty(statements, async (statement) => {
        const result = await world.guard.check(facts({ ...base(), "x-device-posture": statement }));
        expect(result.collected?.input.device).toEqual(UNATTESTED);
        same(result, withoutPosture);
      }),
      RUNS,
    );
  });

  it("a malformed X-Forwarded-For chain leaves the client unknown and never decides more leniently", async () => {
    const viaProxyOnly = await world.guard.check(facts({ ...base(), "x-forwarded-for": undefined }));
    const malformedChain = fc.tuple(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(PARIS))), fc.string({ minLength: 1 }).map((b) => b.replace(/,/g, "")).filter((b) => b.trim() !== "" && normalizeIp(b) === null))
      .map(([left, bad]) => [...left, bad].join(", "));
    await fc.assert(
      fc.asyncProperty(malformedChain, async (header) => {
        const result = await world.guard.check(facts({ ...base(), "x-forwarded-for": header }));
        expect(result.collected?.input.network.ip).toBeNull();
        expect(RANK[result.decision!.outcome]).toBeGreaterThanOrEqual(RANK[viaProxyOnly.decision!.outcome]);
      }),
      RUNS,
    );
  });

  it("any X-Forwarded-For from an untrusted peer is ignored", async () => {
    const plain = await world.guard.check(facts({ ...base(), "x-forwarded-for": undefined }, { peer: "192.0.2.10" }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(junk, fc.ipV4(), fc.constant(PARIS)), async (header) => {
        same(await world.guard.check(facts({ ...base(), "x-forwarded-for": header }, { peer: "192.0.2.10" })), plain);
      }),
      RUNS,
    );
  });

  it("a malformed peer address leaves the client unknown", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.constant(undefined), fc.constant("fe80::1%lo")), async (peer) => {
        fc.pre(peer === undefined || !/^[\d.:a-fA-F[\]\s]+$/.test(peer));
        const result = await world.guard.check(facts({ ...base(), "x-forwarded-for": undefined }, { peer }));
        expect(result.collected?.input.network.ip).toBeNull();
        expect(result.decision).not.toBeNull();
      }),
      RUNS,
    );
  });

  it("odd methods and paths are decided or refused, never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }), fc.string({ maxLength: 3000 }), async (method, path) => {
        const result = await world.guard.check(facts(base(), { method, path: `/payroll/${path}` }));
        expect([200, 401, 403]).toContain(result.answer.status);
      }),
      RUNS,
    );
  });
});
