/**
 * One meaning of a document on every runtime. Documents as callers write them (test/support/
 * documents.ts: valid ones with optional fields left out, the crafted arithmetic boundaries, and
 * thousands the SDK rejects) go as they are to every runtime that can be sent a document:
 *   - the SDK in-process (`Stepup.decide`: its checked writer and the packed entrypoint on the wasm);
 *   - OPA's wasm SDK (@open-policy-agent/opa-wasm) on the bundle's module at `stepup/decision`;
 *   - `opa eval` on the Rego (one run for the whole corpus);
 *   - the OPA sidecar in a container, through stepup's RemoteStepup and RemoteEngine and through
 *     OPA's own client @open-policy-agent/opa;
 *   - opa-envoy-plugin's OPA (its REST API; the plugin embeds an older OPA than the CLI's).
 * A valid document gets the same decision from all of them. A document the SDK rejects makes it
 * throw ERR_INPUT_INVALID, and every OPA runtime deny it with reason input.invalid, naming exactly
 * the fields the SDK's issues name: no runtime allows one. Envoy's CheckRequests cannot carry a
 * document (the plugin's Rego builds its own from what Envoy sees), so valid documents go through
 * the edge as the Envoy parity suite derives them, and the plugin's answer must be the in-process
 * decision of the input its Rego mapped the request to.
 */
import { OPAClient } from "@open-policy-agent/opa";
import { loadPolicy, type LoadedPolicy } from "@open-policy-agent/opa-wasm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import { parseVerdict } from "../../src/decision/verdict.js";
import { InputInvalidError, isStepupError } from "../../src/errors.js";
import { parseInput } from "../../src/input/validate.js";
import { RemoteStepup } from "../../src/remote-stepup.js";
import type { Stepup } from "../../src/stepup.js";
import { testStepup } from "../helpers.js";
import { boundaryDocuments, derivedDocuments, sparseDocuments } from "../support/documents.js";
import { comparable as comparableAnswer, canonical, fromOutcome, inProcessAnswer, pluginDecisionId } from "../support/envoy/answers.js";
import { EDGE_REALM, makeEdge, protoObject, type Edge } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { startPlugin, type EnvoyPlugin } from "../support/envoy/plugin.js";
import { inPool } from "../support/in-pool.js";
import { opaEvalDecisions } from "../support/opa-eval.js";
import { describeMismatch, differingFields } from "../support/runtime-diff.js";
import { startSidecar, type Sidecar } from "../support/sidecar.js";

/** The corpus is reproducible: the same seed gives the same documents. */
const SEED = 20_260_601;
const SPARSE = 2_000;
/** Fully filled documents each broken in every way the contract states, then random and multiple faults. */
const BASES = 4;
const RANDOM_BREAKS = 300;
const MULTIPLE_FAULTS = 300;
/** Thousands of documents through five runtimes on a loaded CI machine: minutes, not the default minute. */
const LONG = 600_000;
/** Valid documents carried through Envoy (each a signed token or an mTLS certificate). */
const THROUGH_ENVOY = 400;
const IN_FLIGHT = 8;

let stepup: Stepup;
let stock: LoadedPolicy;
let sidecar: Sidecar | undefined;
let plugin: EnvoyPlugin | undefined;
let remote: RemoteStepup | undefined;
let official: OPAClient;
let edge: Edge | undefined;

beforeAll(async () => {
  stepup = await testStepup();
  stock = await loadPolicy(stepup.bundle.wasm);
  stock.setData(stepup.bundle.data);
  const bundlePath = inject("bundlePath");
  edge = await makeEdge();
  [sidecar, plugin] = await Promise.all([startSidecar(bundlePath), startPlugin(bundlePath, edge.settings)]);
  // A loaded CI machine may pause for a while; parity is about answers, not latency.
  remote = await RemoteStepup.connect({ url: sidecar.url, timeoutMs: 15_000, retries: 2, onError: () => {} });
  official = new OPAClient(sidecar.url);
});

afterAll(async () => {
  remote?.close();
  await Promise.all([sidecar?.stop(), plugin?.stop(), edge?.close()]);
});

type Answer = Record<string, unknown> | { error: string };

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A verdict as compared: sets sorted (OPA sorts them, the wasm does not), or the error instead. */
function verdictAnswer(raw: unknown): Answer {
  if (raw === undefined) return { error: "no decision" };
  try {
    const v = parseVerdict(raw);
    return { ...v, reasons: [...v.reasons].sort(), obligations: [...v.obligations].sort(), exceptions: [...v.exceptions].sort(byId) };
  } catch (err) {
    return { error: isStepupError(err) ? err.code : String(err) };
  }
}

/** A rendered decision brought back to the verdict it was rendered from. */
function decisionAnswer(d: Decision): Answer {
  if (d.error) return { error: d.error.code };
  return {
    outcome: d.outcome,
    tier: d.target.tier,
    risk: { score: d.risk.score, level: d.risk.level, groups: d.risk.groups, contributions: Object.fromEntries(d.risk.contributions.map((c) => [c.signal, c.points])) },
    requirement: d.requirement,
    satisfied: d.satisfied,
    reasons: d.reasons.map((r) => r.code).sort(),
    obligations: [...d.obligations].sort(),
    exceptions: [...d.exceptions].sort(byId),
    policy_version: d.policy.version,
    ...(d.invalid_fields ? { invalid_fields: d.invalid_fields } : {}),
  };
}

function failure(err: unknown): Answer {
  return { error: isStepupError(err) ? err.code : String(err) };
}

async function attempt(fn: () => Promise<Answer>): Promise<Answer> {
  try {
    return await fn();
  } catch (err) {
    return failure(err);
  }
}

/** What each runtime that is sent a document answers for each, in the documents' order. */
async function everyRuntime(docs: readonly unknown[]): Promise<Record<string, Answer[]>> {
  const pluginUrl = plugin!.url;
  const [opaEval, viaRemoteEngine, viaOfficial, viaPlugin] = await Promise.all([
    opaEvalDecisions(docs).then((answers) => answers.map(verdictAnswer)),
    inPool(docs, IN_FLIGHT, (doc) => attempt(async () => verdictAnswer(await remote!.engine.evaluate(doc as Input)))),
    // OPA reads an input of null as no input, and this client can send null only so.
    inPool(docs, IN_FLIGHT, (doc) =>
      attempt(async () => verdictAnswer(await (doc === null ? official.evaluate("stepup/decision") : official.evaluate("stepup/decision", doc as Record<string, unknown>)))),
    ),
    inPool(docs, IN_FLIGHT, (doc) =>
      attempt(async () => {
        const response = await fetch(`${pluginUrl}/v1/data/stepup/decision`, { method: "POST", body: JSON.stringify({ input: doc }) });
        return verdictAnswer(((await response.json()) as { result?: unknown }).result);
      }),
    ),
  ]);
  const wasm = docs.map((doc) => {
    try {
      return verdictAnswer((stock.evaluate(doc, "stepup/decision") as [{ result: unknown }])[0]?.result);
    } catch (err) {
      return failure(err);
    }
  });
  return {
    "opa-wasm stepup/decision": wasm,
    "opa eval": opaEval,
    "sidecar via RemoteEngine": viaRemoteEngine,
    "sidecar via @open-policy-agent/opa": viaOfficial,
    "opa-envoy-plugin's OPA": viaPlugin,
  };
}

interface Labelled {
  readonly label: string;
  readonly doc: unknown;
}

function valid(): Labelled[] {
  const derived = derivedDocuments(SEED, BASES, RANDOM_BREAKS, MULTIPLE_FAULTS);
  return [
    ...sparseDocuments(SEED, SPARSE).map((doc, i) => ({ label: `sparse #${i} (seed ${SEED})`, doc })),
    ...derived.edges.map((doc, i) => ({ label: `valid edge #${i} (seed ${SEED})`, doc })),
    ...boundaryDocuments(),
  ];
}

function report(problems: readonly string[], total: number, what: string): string {
  const shown = problems.slice(0, 8).join("\n\n");
  return `${problems.length} of ${total} ${what}:\n\n${shown}${problems.length > 8 ? `\n\n… and ${problems.length - 8} more` : ""}`;
}

describe("one meaning of a document on every runtime", () => {
  it(`decides every valid document alike: ${SPARSE} with fields left out, the valid edges and the arithmetic boundaries`, async () => {
    const corpus = valid();
    const docs = corpus.map((c) => c.doc);
    const [runtimes, viaRemoteStepup] = await Promise.all([
      everyRuntime(docs),
      inPool(docs, IN_FLIGHT, (doc) => attempt(async () => decisionAnswer(await remote!.decide(doc)))),
    ]);
    const problems: string[] = [];
    const outcomes = new Set<string>();
    corpus.forEach((c, i) => {
      let sdk: Answer;
      try {
        sdk = decisionAnswer(stepup.decide(c.doc));
      } catch (err) {
        sdk = failure(err);
      }
      const answers: Record<string, unknown> = { SDK: sdk, "sidecar via RemoteStepup": viaRemoteStepup[i] };
      for (const [name, list] of Object.entries(runtimes)) answers[name] = list[i];
      const differences = differingFields(answers);
      if (differences.length > 0) problems.push(describeMismatch(c.label, c.doc, differences));
      outcomes.add(String((sdk as { outcome?: string }).outcome ?? "error"));
    });
    expect(problems.length, report(problems, corpus.length, "valid documents decided differently")).toBe(0);
    // The corpus reaches every outcome, so agreeing means something.
    expect([...outcomes].sort()).toEqual(["allow", "deny", "step_up"]);
    expect(corpus.length).toBeGreaterThanOrEqual(SPARSE + 1_000);
  }, LONG);

  it("refuses every document the SDK rejects: ERR_INPUT_INVALID from the SDK, a deny naming the same fields from every OPA runtime", async () => {
    const { rejected } = derivedDocuments(SEED, BASES, RANDOM_BREAKS, MULTIPLE_FAULTS);
    expect(rejected.length).toBeGreaterThanOrEqual(2_000);
    const [runtimes, viaRemoteStepup] = await Promise.all([
      everyRuntime(rejected),
      inPool(rejected, IN_FLIGHT, (doc) => attempt(async () => decisionAnswer(await remote!.decide(doc)))),
    ]);
    const problems: string[] = [];
    const allows: string[] = [];
    const named = new Set<string>();
    rejected.forEach((doc, i) => {
      let fields: string[];
      try {
        stepup.decide(doc);
        problems.push(`#${i}: the SDK decided a document its contract rejects\n  ${JSON.stringify(doc)}`);
        return;
      } catch (err) {
        if (!(err instanceof InputInvalidError)) {
          problems.push(`#${i}: the SDK threw ${String(err)} instead of ERR_INPUT_INVALID\n  ${JSON.stringify(doc)}`);
          return;
        }
        fields = [...new Set(err.issues.map((issue) => issue.path))].sort();
      }
      fields.forEach((f) => named.add(f.replace(/\[\d+\]/g, "[]")));
      const expected = { outcome: "deny", reasons: ["input.invalid"], invalid_fields: fields };
      const answers: Record<string, Answer> = { "sidecar via RemoteStepup": viaRemoteStepup[i]! };
      for (const [name, list] of Object.entries(runtimes)) answers[name] = list[i]!;
      for (const [name, answer] of Object.entries(answers)) {
        if ((answer as { outcome?: string }).outcome === "allow") allows.push(`#${i} ${name}`);
        if (name === "sidecar via RemoteStepup") {
          // stepup's client checks the document itself and never sends it.
          if ((answer as { error?: string }).error !== "ERR_INPUT_INVALID") problems.push(`#${i} ${name}: ${JSON.stringify(answer)}`);
          continue;
        }
        const got = answer as { outcome?: string; reasons?: string[]; invalid_fields?: string[] };
        const seen = { outcome: got.outcome, reasons: got.reasons, invalid_fields: got.invalid_fields && [...got.invalid_fields].sort() };
        if (canonical(seen) !== canonical(expected)) {
          problems.push(`#${i} ${name}:\n  document ${JSON.stringify(doc)}\n  got      ${canonical(answer)}\n  expected ${canonical(expected)}`);
        }
      }
    });
    expect(allows, `${allows.length} allows of a rejected document: ${allows.slice(0, 20).join(", ")}`).toEqual([]);
    expect(problems.length, report(problems, rejected.length, "rejected documents not refused as the SDK refuses them")).toBe(0);
    // Every field of the contract was at fault in some document, the document itself too.
    for (const field of ["", "now", "version", "subject.kind", "subject.roles[]", "credential.type", "credential.spiffe_id", "network.ip", "geo.previous.time", "familiarity.unfamiliar[]", "target.resource", "extra"]) {
      expect(named.has(field), `no rejected document names ${JSON.stringify(field)}`).toBe(true);
    }
    console.info(`documents rejected: ${rejected.length}, naming ${named.size} distinct fields`);
  }, LONG);

  it(`carries ${THROUGH_ENVOY} valid documents and the session and credential boundaries through Envoy to opa-envoy-plugin`, async () => {
    const carried = [
      ...boundaryDocuments().filter((c) => !c.label.startsWith("travel")),
      ...sparseDocuments(SEED, THROUGH_ENVOY).map((doc, i) => ({ label: `sparse #${i} (seed ${SEED})`, doc })),
    ];
    const client = new NodeEnvoyClient(plugin!.grpcAddress);
    try {
      const checks = await Promise.all(carried.map(async (c, i) => edge!.derive(parseInput(c.doc), `documents-${i}`)));
      const outcomes = await inPool(checks, IN_FLIGHT, (check) => client.check(protoObject(check)));
      const ids = outcomes.map((o) => pluginDecisionId(o) ?? "missing");
      const mapped = await plugin!.mappedInputs(ids);
      const problems: string[] = [];
      carried.forEach((c, i) => {
        const input = parseInput(mapped.get(ids[i]!));
        const expected = comparableAnswer(inProcessAnswer(stepup.decideInput(input), input.session !== null, EDGE_REALM));
        const got = comparableAnswer(fromOutcome(outcomes[i]!));
        if (canonical(got) !== canonical(expected)) problems.push(`${c.label}:\n  got      ${canonical(got)}\n  expected ${canonical(expected)}`);
      });
      expect(problems.length, report(problems, carried.length, "documents answered differently through Envoy")).toBe(0);
    } finally {
      client.close();
    }
  }, LONG);
});
