/**
 * A small world for the end-to-end tests: an identity provider and an MDM with their own keys
 * (JWKS file and JWKS URL on loopback), the geography fixtures, a corporate zone, a trusted proxy
 * on 127.0.0.1, a route mapping, a settable clock, and a Stepup on the test bundle that remembers
 * every decision it made by id.
 */
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import { Guard, type GuardOptions } from "../../src/enforcement/guard.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import type { BehaviorStore } from "../../src/signals/behavior/store.js";
import { Signals } from "../../src/signals/collect.js";
import type { TargetOptions } from "../../src/signals/target.js";
import { Stepup, type StepupOptions } from "../../src/stepup.js";
import { newIssuer, type Issuer } from "./keys.js";

export const T0 = 1_795_852_800;
export const AUD = "api://stepup-test";
/** Documentation addresses placed by the fixtures: Paris (corporate), Lyon, Tokyo. */
export const PARIS = "198.51.100.7";
export const LYON = "192.0.2.10";
export const TOKYO = "203.0.113.9";

export interface World {
  readonly idp: Issuer;
  readonly mdm: Issuer;
  readonly stepup: Stepup;
  readonly signals: Signals;
  readonly guard: Guard;
  readonly store: BehaviorStore;
  /** Every decision made, by id, with the input it was made on. */
  readonly decisions: Map<string, { decision: Decision; input: Input }>;
  now: number;
  accessToken(claims: Record<string, unknown>): Promise<string>;
  posture(deviceId: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function makeWorld(
  options: { store?: BehaviorStore; guard?: GuardOptions; stepup?: Pick<StepupOptions, "onDecision" | "onRollout">; targets?: TargetOptions } = {},
): Promise<World> {
  const idp = await newIssuer("https://idp.test");
  const mdm = await newIssuer("https://mdm.test");
  const dir = await mkdtemp(join(tmpdir(), "stepup-world-"));
  const jwksFile = join(dir, "idp-jwks.json");
  await writeFile(jwksFile, JSON.stringify(idp.jwks));
  const torList = join(dir, "tor-exits.txt");
  await writeFile(torList, "# test exits\n203.0.113.66\n");
  const jwksServer: Server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(mdm.jwks)));
  await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;

  const decisions = new Map<string, { decision: Decision; input: Input }>();
  const stepup = await Stepup.load(inject("bundlePath"), {
    onError: () => {},
    onRollout: options.stepup?.onRollout,
    onDecision: (e) => {
      decisions.set(e.decision.decision_id, { decision: e.decision, input: e.input });
      options.stepup?.onDecision?.(e);
    },
  });
  const store = options.store ?? new MemoryBehaviorStore();
  const world: World = {
    idp,
    mdm,
    stepup,
    store,
    decisions,
    now: T0,
    signals: undefined as unknown as Signals,
    guard: undefined as unknown as Guard,
    accessToken: (claims) =>
      idp.sign({ aud: AUD, client_id: "web-app", jti: `j-${Math.random()}`, iat: world.now, ...claims }, { typ: "at+jwt", expiresIn: 2 * 3600 }),
    posture: (deviceId, claims = {}) =>
      mdm.sign({ sub: deviceId, user: "alice@example.com", iat: world.now, managed: true, compliant: true, disk_encrypted: true, edr_running: true, os_patch_age_days: 3, device_kind: "laptop", ...claims }),
    async close() {
      await new Promise((r) => jwksServer.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const signals = await Signals.create({
    clock: () => world.now,
    session: { keys: { jwksFile }, issuer: idp.issuer, audience: AUD },
    device: { keys: { jwksUrl }, issuer: mdm.issuer, subjectClaim: "user" },
    network: {
      trustedProxies: ["127.0.0.1"],
      zones: { corporate: ["198.51.100.0/24"], known: [] },
      lists: [{ file: torList, anonymizer: "tor" }],
    },
    geo: { cityDb: "test/fixtures/geo/test-city.mmdb", asnDb: "test/fixtures/geo/test-asn.mmdb" },
    behavior: { store },
    targets: options.targets ?? {
      routes: [
        { path: "/wiki/:page", app: "wiki" },
        { method: "POST", path: "/admin/users", app: "admin-console", action: "admin" },
        { method: "GET", path: "/payroll/:id", app: "payroll" },
        { method: "GET", path: "/news", app: "intranet" },
      ],
    },
  });
  Object.assign(world, { signals, guard: new Guard(stepup, signals, { onSignalError: () => {}, ...options.guard }) });
  return world;
}
