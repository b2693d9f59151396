/**
 * fast-check arbitraries for the input contract, drawing apps, actions and acr values from the
 * policy's own data so that generated inputs land on every branch of the policy. Shared by the
 * property tests and the parity corpus; `sampleInputs(seed, n)` gives a reproducible corpus.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parseInput } from "../../src/input/validate.js";
import type { Input, InputDraft } from "../../src/contracts/input.js";

interface Config {
  catalog: { apps: Record<string, { actions?: Record<string, string> }>; action_floors: Record<string, string> };
  assurance: { acr: Record<string, unknown>; amr: Record<string, unknown> };
}

const config = JSON.parse(readFileSync("rego/stepup/config/data.json", "utf8")) as Config;

export const NOW = 1795852800;

const apps = [...Object.keys(config.catalog.apps), "unknown-app"];
const actions = [
  ...new Set([
    ...Object.keys(config.catalog.action_floors),
    ...Object.values(config.catalog.apps).flatMap((a) => Object.keys(a.actions ?? {})),
    "list",
  ]),
];
const acrs = [...Object.keys(config.assurance.acr), "urn:unknown:acr"];
const amrs = [...Object.keys(config.assurance.amr), "pwd", "otp", "sms", "pin", "face"];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });
const seconds = (max: number) => fc.integer({ min: 0, max });

export const subjectArb = fc.record({
  id: fc.constantFrom("alice@example.com", "bob@example.com", "svc-billing", "spiffe-workload"),
  kind: fc.constantFrom("human", "human", "human", "service", "workload"),
  roles: fc.subarray(["engineer", "admin", "finance", "contractor"]),
  privilege_granted_at: maybe(seconds(3 * 86400).map((s) => NOW - s)),
});

export const sessionArb = fc.record({
  acr: maybe(fc.constantFrom(...acrs)),
  amr: maybe(fc.subarray(amrs, { maxLength: 3 })),
  auth_time: maybe(fc.oneof(fc.constant(NOW - 60), seconds(10 * 86400).map((s) => NOW - s), fc.constant(NOW + 3600))),
});

export const credentialArb = fc.record({
  type: fc.constantFrom("spiffe_svid", "mtls", "oidc_federated", "oauth_client_credentials", "static_api_key"),
  issued_at: maybe(seconds(400 * 86400).map((s) => NOW - s)),
  expires_at: maybe(fc.integer({ min: -86400, max: 400 * 86400 }).map((s) => NOW + s)),
  storage: maybe(fc.constantFrom("secrets_manager", "workload_api", "env", "config_file", "code", "ci")),
  spiffe_id: maybe(fc.constantFrom("spiffe://example.org/billing", "spiffe://other.test/x")),
});

export const deviceArb = fc.record({
  id: maybe(fc.constantFrom("lt-1", "byod-2", "kiosk-3")),
  attested: fc.boolean(),
  managed: maybe(fc.boolean()),
  compliant: maybe(fc.boolean()),
  encrypted: maybe(fc.boolean()),
  edr_running: maybe(fc.boolean()),
  os_patch_age_days: maybe(fc.integer({ min: 0, max: 400 })),
  kind: maybe(fc.constantFrom("laptop", "desktop", "mobile", "shared", "server")),
});

export const networkArb = fc.record({
  ip: maybe(fc.constantFrom("10.20.3.14", "203.0.113.40", "198.51.100.23", "2001:db8::1")),
  zone: maybe(fc.constantFrom("corporate", "known", "external")),
  reputation: maybe(fc.constantFrom("good", "neutral", "suspicious", "malicious")),
  anonymizer: maybe(fc.constantFrom("none", "vpn", "tor", "proxy", "hosting")),
  asn: maybe(fc.integer({ min: 1, max: 70000 })),
});

const country = fc.constantFrom("US", "FR", "DE", "JP", "BR", "AU");

export const geoArb = fc.record({
  country: maybe(country),
  lat: maybe(fc.double({ min: -90, max: 90, noNaN: true })),
  lon: maybe(fc.double({ min: -180, max: 180, noNaN: true })),
  accuracy_km: maybe(fc.integer({ min: 1, max: 1000 })),
  distance_km: maybe(fc.integer({ min: 0, max: 20000 })),
  previous: maybe(
    fc.record({
      country: maybe(country),
      accuracy_km: maybe(fc.integer({ min: 1, max: 1000 })),
      time: seconds(30 * 86400).map((s) => NOW - s),
      anonymized: fc.boolean(),
    }),
  ),
});

export const familiarityArb = fc.record({
  history: fc.integer({ min: 0, max: 200 }),
  novelty: fc.integer({ min: 0, max: 3000 }),
  unfamiliar: fc.subarray(["asn", "country", "location", "device", "attestation", "browser", "hour", "app"] as const),
});

export const behaviorArb = fc.record({
  failed_attempts_recent: maybe(fc.integer({ min: 0, max: 30 })),
  prompts_recent: maybe(fc.integer({ min: 0, max: 15 })),
  privilege_escalation: maybe(fc.boolean()),
});

export const targetArb = fc.record({
  app: fc.constantFrom(...apps),
  action: fc.constantFrom(...actions),
  resource: maybe(fc.constantFrom("/reports/q3", "/secrets/db-password")),
});

/** A valid input document as a caller might write it. */
export const inputDraftArb: fc.Arbitrary<InputDraft> = fc.record({
  now: fc.constant(NOW),
  subject: subjectArb,
  session: maybe(sessionArb),
  credential: maybe(credentialArb),
  device: maybe(deviceArb),
  network: networkArb,
  geo: maybe(geoArb),
  behavior: maybe(behaviorArb),
  familiarity: maybe(familiarityArb),
  target: targetArb,
}) as fc.Arbitrary<InputDraft>;

/** A validated input, as the policy sees it. */
export const inputArb: fc.Arbitrary<Input> = inputDraftArb.map((draft) => parseInput(draft));

/** A reproducible corpus of validated inputs. */
export function sampleInputs(seed: number, count: number): Input[] {
  return fc.sample(inputArb, { seed, numRuns: count });
}

/** Values that sit on the edges of what JSON Schema and zod each accept. */
export const awkward = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    0,
    -0,
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53,
    1e21,
    253402300800,
    "",
    "x",
    "FR",
    "fr",
    "FRA",
    "😀",
    "😀".repeat(40),
    "x".repeat(65),
    "a".repeat(129),
    "b".repeat(257),
    "10.0.0.1",
    "999.1.1.1",
    "::1",
    "::1\n",
    "::@1\\",
    "1::2::3",
    "fe80::1%eth0",
    "spiffe://example.org/x",
    "spiffe://",
    "human",
    "robot",
    [],
    ["a"],
    [1],
    {},
    { extra: true },
  ),
  fc.anything({ maxDepth: 2 }),
);

/** The paths of a document's fields, objects and list items included. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...keys.flatMap((key) => paths((value as Record<string | number, unknown>)[key], [...prefix, key]))];
}

/** The document with `value` at `path` (or the field removed when value is undefined), or a field added. */
export function broken(draft: unknown, pick: number, value: unknown, addKey: boolean): unknown {
  const copy = structuredClone(draft) as Record<string, unknown>;
  const all = paths(copy);
  const path = all[pick % all.length]!;
  if (path.length === 0) return addKey ? { ...copy, extra: value } : value;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
  const key = path[path.length - 1]!;
  if (addKey && typeof parent[key] === "object" && parent[key] !== null) (parent[key] as Record<string, unknown>).extra = value;
  else if (value === undefined) delete parent[key];
  else parent[key] = value;
  return copy;
}

/** An input whose strings are multi-byte, escaped, control and separator characters, and whose numbers are fractions. */
export function oddInput(): Input {
  return parseInput({
    now: NOW,
    subject: { id: 'é"\\\n\u0001 😀', kind: "human", roles: ["ü", "\u2028"] },
    geo: { lat: -33.8688, lon: 1e-7, distance_km: 1 },
    target: { app: "wiki", action: "read", resource: "/a\tb€" },
  });
}

/** The largest input the contract allows: every list full, every string at its longest, made of `character`. */
export function largestInput(character: string): Input {
  const long = (n: number) => character.repeat(n);
  const list = Array.from({ length: 64 }, () => long(128));
  return parseInput({
    now: 253402300799,
    subject: { id: long(256), kind: "workload", roles: list, groups: list, tags: list, privilege_granted_at: 253402300799 },
    session: { acr: long(256), amr: Array.from({ length: 16 }, () => long(64)), auth_time: 253402300799 },
    familiarity: { history: 1_000_000, novelty: 1_000_000, unfamiliar: ["asn", "country", "location", "device", "attestation", "browser", "hour", "app"] },
    target: { app: long(128), action: long(64), resource: long(1024) },
  });
}
