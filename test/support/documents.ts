/**
 * Documents as callers send them, for the suite that holds every runtime to one meaning of a
 * document (test/parity/documents.test.ts), all drawn from the input contract and seeded:
 *   - valid documents with optional fields left out at random, at every level;
 *   - documents the SDK rejects: derived from fully filled documents by walking the contract's
 *     JSON Schema — every required field removed in turn, every field given each wrong type, every
 *     bound, length, pattern, enum and const crossed, every object emptied or given an unknown
 *     field — then random breaks with awkward values, and documents with several faults at once;
 *   - the arithmetic boundaries the policy compares at, crafted from the tuning data: exactly at
 *     the speed limit and a kilometre either side, radii that cancel the distance, clock skew,
 *     max_age and credential lifetime edges, and the counters' thresholds.
 * Every document has been through JSON (what a runtime is sent), and whether the SDK accepts it
 * is decided by the SDK itself, never assumed: a derived document the SDK accepts is a valid edge.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { jsonSchemaOf } from "../../src/contracts/compiled.js";
import { InputSchema } from "../../src/contracts/input.js";
import type { ContractJsonSchema } from "../../src/contracts/input-rego.js";
import {
  awkward,
  behaviorArb,
  broken,
  credentialArb,
  deviceArb,
  familiarityArb,
  geoArb,
  inputDraftArb,
  NOW,
  sessionArb,
  subjectArb,
  targetArb,
  networkArb,
} from "./arbitraries.js";


type Path = readonly string[];
type Json = Record<string, unknown>;

const schema = jsonSchemaOf(InputSchema, "input") as ContractJsonSchema;

/** Whether the SDK's contract accepts the document. */
export function accepted(doc: unknown): boolean {
  return InputSchema.safeParse(doc).success;
}

/** The document as a runtime receives it: through JSON. */
export function viaJson(doc: unknown): unknown {
  const text = JSON.stringify(doc);
  return text === undefined ? null : JSON.parse(text);
}

function alternatives(node: ContractJsonSchema): ContractJsonSchema[] {
  if (node.anyOf) return node.anyOf.flatMap(alternatives);
  if (Array.isArray(node.type)) return (node.type as string[]).map((type) => ({ ...node, type }));
  return [node];
}

function objectOf(node: ContractJsonSchema): ContractJsonSchema | undefined {
  return alternatives(node).find((a) => a.type === "object");
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  return node;
}

/** A copy of the document with the field at `path` set to `value`, or removed when it is undefined. */
function withField(doc: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(doc) as Json;
  const parent = at(copy, path.slice(0, -1));
  if (!isRecord(parent)) return copy;
  const key = path[path.length - 1]!;
  if (value === undefined) delete parent[key];
  else parent[key] = value;
  return copy;
}

/** Every field of the contract present in `doc`, with its schema and whether it is required. */
function fields(doc: unknown, node: ContractJsonSchema = schema, prefix: Path = []): { path: Path; node: ContractJsonSchema; required: boolean }[] {
  const object = objectOf(node);
  const value = at(doc, prefix);
  if (!object || !isRecord(value)) return [];
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).flatMap(([key, sub]) => {
    const path = [...prefix, key];
    const here = key in value ? [{ path, node: sub, required: required.has(key) }] : [];
    return [...here, ...fields(doc, sub, path)];
  });
}

// ---------------------------------------------------------------------------------------------
// Valid documents with fields left out

/** A valid document as a caller may write it, with any of its optional fields left out. */
export const sparseDocumentArb: fc.Arbitrary<unknown> = inputDraftArb.chain((draft) => {
  const optional = fields(draft).filter((f) => !f.required);
  return fc.subarray(optional).map((dropped) => {
    let doc: unknown = draft;
    // Deepest first, so that leaving out an object after one of its fields is still a removal.
    for (const f of [...dropped].sort((a, b) => b.path.length - a.path.length)) doc = withField(doc, f.path, undefined);
    return viaJson(doc);
  });
});

/** A reproducible corpus of valid documents with optional fields left out. */
export function sparseDocuments(seed: number, count: number): unknown[] {
  return fc.sample(sparseDocumentArb, { seed, numRuns: count });
}

// ---------------------------------------------------------------------------------------------
// Documents the SDK rejects

/** A valid document with every nullable object set, so that every field of the contract is there. */
const fullDraftArb = fc.record({
  version: fc.constant(1),
  now: fc.constant(NOW),
  subject: subjectArb.map((s) => ({ ...s, groups: ["staff"], tags: ["t"] })),
  session: sessionArb,
  credential: credentialArb,
  device: deviceArb,
  network: networkArb,
  geo: geoArb.chain((g) =>
    fc.record({ country: fc.constant("FR"), accuracy_km: fc.integer({ min: 0, max: 200 }), time: fc.constant(NOW - 7200), anonymized: fc.boolean() }).map((previous) => ({ ...g, previous })),
  ),
  behavior: behaviorArb,
  familiarity: familiarityArb,
  target: targetArb,
});

const WRONG_TYPES: readonly unknown[] = ["x", 7, 1.5, true, null, [], {}];

/** Values that break a field's alternatives, each in some way its schema states (some may not). */
function breakers(node: ContractJsonSchema, current: unknown): unknown[] {
  const out: unknown[] = [...WRONG_TYPES];
  for (const a of alternatives(node)) {
    if (a.const !== undefined) out.push(2, "1", 0);
    if (a.enum) {
      const first = String(a.enum[0]);
      out.push("unknown", first.toUpperCase(), `${first} `, "");
    }
    if (a.type === "integer" || a.type === "number") {
      if (a.minimum !== undefined) out.push(a.minimum - 1, a.minimum - 0.5);
      if (a.maximum !== undefined) out.push(a.maximum + 1, a.maximum + 0.5);
      if (a.type === "integer") out.push((a.minimum ?? 0) + 0.5, 1e21);
    }
    if (a.type === "string") {
      if (a.maxLength !== undefined) out.push("a".repeat(a.maxLength + 1), "😀".repeat(a.maxLength + 1), "😀".repeat(a.maxLength), "é".repeat(a.maxLength));
      if ((a.minLength ?? 0) > 0) out.push("");
      if (a.pattern !== undefined) {
        const valid = typeof current === "string" ? current : "x";
        out.push(`${valid}\n`, `${valid}\r`, `${valid}\u2028`, `\n${valid}`, valid.toLowerCase(), valid.slice(1), "");
      }
    }
    if (a.type === "array") {
      const item = Array.isArray(current) && current.length > 0 ? current[0] : "x";
      if (a.maxItems !== undefined) out.push(Array.from({ length: a.maxItems + 1 }, () => item), Array.from({ length: a.maxItems }, () => item));
      out.push([7], [""], [null], [item, {}], ["unknown"]);
    }
    if (a.type === "object") out.push({}, { extra: 1 });
  }
  return out;
}

/** Every document one contract-driven fault away from `base` (some of which the SDK still accepts). */
function faultsOf(base: unknown): unknown[] {
  const out: unknown[] = [];
  for (const f of fields(base)) {
    if (f.required) out.push(withField(base, f.path, undefined));
    for (const value of breakers(f.node, at(base, f.path))) out.push(withField(base, f.path, value));
    const here = at(base, f.path);
    if (isRecord(here)) out.push(withField(base, f.path, { ...here, extra: true }), withField(base, f.path, { ...here, [f.path[f.path.length - 1]!]: here }));
  }
  out.push({ ...(base as Json), extra: 1 }, { ...(base as Json), Now: NOW }, {}, "document", 1, [], null, true, [base]);
  return out;
}

export interface Derived {
  /** Documents the SDK rejects. */
  readonly rejected: unknown[];
  /** Documents derived the same way that the SDK accepts: valid edges (a list at its longest, an empty device). */
  readonly edges: unknown[];
}

/**
 * Documents derived from `bases` fully filled documents (seeded): every contract-driven fault of
 * each, `random` random breaks of generated documents with awkward values, and `multiple`
 * documents with two to four faults at once. Each through JSON, each once.
 */
export function derivedDocuments(seed: number, bases: number, random: number, multiple: number): Derived {
  const seen = new Set<string>();
  const rejected: unknown[] = [];
  const edges: unknown[] = [];
  const add = (doc: unknown) => {
    const sent = viaJson(doc);
    const key = JSON.stringify(sent);
    if (seen.has(key)) return;
    seen.add(key);
    (accepted(sent) ? edges : rejected).push(sent);
  };
  const fulls = fc.sample(fullDraftArb, { seed, numRuns: bases });
  const faults = fulls.map(faultsOf);
  for (const list of faults) list.forEach(add);
  const breaks = fc.sample(fc.tuple(inputDraftArb, fc.nat(), awkward, fc.boolean()), { seed: seed + 1, numRuns: random });
  for (const [draft, pick, value, addKey] of breaks) add(broken(draft, pick, value, addKey));
  // Several faults in one document: each applied to the document the previous one left.
  const combos = fc.sample(fc.tuple(fc.nat({ max: bases - 1 }), fc.array(fc.nat(), { minLength: 2, maxLength: 4 })), { seed: seed + 2, numRuns: multiple });
  for (const [b, picks] of combos) {
    let doc: unknown = fulls[b];
    for (const pick of picks) {
      const fs = fields(doc);
      if (fs.length === 0) break;
      const f = fs[pick % fs.length]!;
      const values = breakers(f.node, at(doc, f.path));
      doc = withField(doc, f.path, values[pick % values.length]);
    }
    add(doc);
  }
  return { rejected, edges };
}

// ---------------------------------------------------------------------------------------------
// Arithmetic boundaries

interface Tuning {
  geo: { max_speed_kmh: number; min_distance_km: number; default_accuracy_km: number };
  assurance: { clock_skew: number };
  requirements: { tiers: Record<string, { max_age: number }> };
  workloads: { tiers: Record<string, { max_lifetime: number }> };
  catalog: { apps: Record<string, { tier: string }> };
  device: { patch_stale_days: number; patch_very_stale_days: number };
  behavior: { failed_attempts: number; many_failed_attempts: number };
  familiarity: { novelty: number; min_history: number };
  fatigue: { max_prompts: number };
}

const tuning = JSON.parse(readFileSync("rego/stepup/config/data.json", "utf8")) as Tuning;

export interface Crafted {
  readonly label: string;
  readonly doc: unknown;
}

const person = {
  now: NOW,
  subject: { id: "alice@example.com", kind: "human" },
  session: { acr: "phrh", amr: ["hwk", "pin"], auth_time: NOW - 600 },
  device: { id: "lt-1", attested: true, managed: true, compliant: true, encrypted: true, edr_running: true, os_patch_age_days: 3, kind: "laptop" },
  network: { ip: "10.20.3.14", zone: "corporate", reputation: "good", anonymizer: "none", asn: 64512 },
  familiarity: { history: 40, novelty: 0, unfamiliar: [] },
  target: { app: "wiki", action: "read" },
};

/** A hard stop follows impossible travel on a privileged action; an anonymized login makes travel unverifiable. */
const TRIPS = [
  [false, { app: "wiki", action: "read" }],
  [true, { app: "wiki", action: "read" }],
  [false, { app: "payroll", action: "write" }],
] as const;

const APPS_BY_TIER = Object.fromEntries(Object.entries(tuning.catalog.apps).map(([app, { tier }]) => [tier, app]));

/**
 * Crafted documents at every boundary the policy compares at, each a kilometre, a second or a
 * unit either side too. Geography: for elapsed times whose speed limit falls on a whole
 * kilometre and ones where it does not, and for radii known, unknown (the default), zero and
 * large enough to cancel the distance, the distance that puts the certain distance exactly at
 * the speed limit and at the minimum distance.
 */
export function boundaryDocuments(): Crafted[] {
  const out: Crafted[] = [];
  const { max_speed_kmh: speed, min_distance_km: minimum, default_accuracy_km: fallback } = tuning.geo;
  const radii: [number | null, number | null][] = [
    [null, null],
    [0, 0],
    [1, 1],
    [20, 300],
    [null, 0],
    [2000, 2000],
  ];
  const elapsed = [-120, 0, 1, 1799, 1800, 3600, 36_000, 86_400];
  for (const [here, there] of radii) {
    const taken = (here ?? fallback) + (there ?? fallback);
    for (const seconds of elapsed) {
      const t = Math.max(seconds, 1);
      // Too fast when certain × 3600 > speed × t: the largest certain distance that is not.
      const atLimit = Math.floor((speed * t) / 3600);
      for (const certain of new Set([atLimit, minimum, 0])) {
        for (const delta of [-1, 0, 1]) {
          const distance = certain + delta + taken;
          if (distance < 0 || distance > 50_000) continue;
          for (const [anonymized, target] of TRIPS) {
            out.push({
              label: `travel ${distance} km in ${seconds} s, radii ${here}/${there}, anonymized ${anonymized}, ${target.app}`,
              doc: {
                ...person,
                geo: { country: "JP", accuracy_km: here, distance_km: distance, previous: { country: "FR", accuracy_km: there, time: NOW - seconds, anonymized } },
                target,
              },
            });
          }
        }
      }
    }
  }
  // Sessions: max_age of each tier, clock skew, and a privilege granted around the authentication.
  const skew = tuning.assurance.clock_skew;
  for (const [tier, { max_age: maxAge }] of Object.entries(tuning.requirements.tiers)) {
    const app = APPS_BY_TIER[tier];
    if (!app) continue;
    for (const age of [maxAge - 1, maxAge, maxAge + 1, -skew - 1, -skew, -skew + 1, -1, 0]) {
      out.push({ label: `session ${age} s old on ${app} (${tier})`, doc: { ...person, session: { ...person.session, auth_time: NOW - age }, target: { app, action: "read" } } });
    }
  }
  for (const offset of [-1, 0, 1]) {
    for (const age of [600, 3600]) {
      out.push({
        label: `privilege granted ${offset} s after a session ${age} s old, on a privileged action`,
        doc: { ...person, subject: { ...person.subject, privilege_granted_at: NOW - age + offset }, session: { ...person.session, auth_time: NOW - age }, target: { app: "payroll", action: "write" } },
      });
    }
  }
  // Credentials: lifetime and expiry of each tier.
  for (const [tier, { max_lifetime: lifetime }] of Object.entries(tuning.workloads.tiers)) {
    const app = APPS_BY_TIER[tier];
    if (!app) continue;
    for (const delta of [-1, 0, 1]) {
      for (const expiry of [-1, 0, 1, 600]) {
        out.push({
          label: `credential of lifetime ${lifetime + delta} s expiring at now${expiry >= 0 ? "+" : ""}${expiry} on ${app} (${tier})`,
          doc: {
            now: NOW,
            subject: { id: "spiffe://example.org/billing", kind: "workload" },
            credential: { type: "spiffe_svid", issued_at: NOW + expiry - lifetime - delta, expires_at: NOW + expiry, storage: "workload_api", spiffe_id: "spiffe://example.org/billing" },
            network: person.network,
            target: { app, action: "read" },
          },
        });
      }
    }
  }
  // Counters at each threshold.
  const around = (n: number) => [n - 1, n, n + 1].filter((v) => v >= 0);
  for (const days of [...around(tuning.device.patch_stale_days), ...around(tuning.device.patch_very_stale_days)]) {
    out.push({ label: `patch ${days} days old`, doc: { ...person, device: { ...person.device, os_patch_age_days: days } } });
  }
  for (const failed of [...around(tuning.behavior.failed_attempts), ...around(tuning.behavior.many_failed_attempts)]) {
    out.push({ label: `${failed} failed attempts`, doc: { ...person, behavior: { failed_attempts_recent: failed, prompts_recent: 0, privilege_escalation: false } } });
  }
  for (const prompts of around(tuning.fatigue.max_prompts)) {
    out.push({ label: `${prompts} prompts`, doc: { ...person, behavior: { failed_attempts_recent: 0, prompts_recent: prompts, privilege_escalation: false } } });
  }
  for (const novelty of around(tuning.familiarity.novelty)) {
    for (const history of around(tuning.familiarity.min_history)) {
      out.push({ label: `novelty ${novelty}, history ${history}`, doc: { ...person, familiarity: { history, novelty, unfamiliar: ["asn"] } } });
    }
  }
  return out.map((c) => ({ label: c.label, doc: viaJson(c.doc) }));
}
