/**
 * Envoy ext_authz parity: the scenario catalogue, each scenario as the CheckRequest Envoy would
 * send for it, through two independent clients built on Envoy's API definitions (Node over the
 * protos in @grpc/grpc-js-xds, Go over go-control-plane's types) to both servers — opa-envoy-plugin
 * running the bundle's Rego, and stepup's Node ext_authz server on the wasm. Every response must
 * agree across clients and servers and with the in-process decision of the input the request maps
 * to (for the plugin, the input its Rego mapping produced; for the Node server, the input its
 * signal collection produced), and the two mappings must give the same input. The same holds for
 * a seeded sample of the parity corpus's generated inputs (test/support/arbitraries.ts).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import { ExtAuthzServer } from "../../src/enforcement/envoy/server.js";
import { parseInput } from "../../src/input/validate.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios, testStepup } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { canonical, comparable, decisionIds, fromOutcome, inProcessAnswer, pluginDecisionId, type Answer } from "../support/envoy/answers.js";
import { EDGE_REALM, makeEdge, protoJson, protoObject, type Edge, type EdgeCheck } from "../support/envoy/edge.js";
import { goCheck, goClient } from "../support/envoy/go-client.js";
import { NodeEnvoyClient, type CheckOutcome } from "../support/envoy/node-client.js";
import { startPlugin, type EnvoyPlugin } from "../support/envoy/plugin.js";
import { normalised } from "../support/opa-eval.js";

/** The parity suite's seed; a sample of its generated corpus goes through the edge too. */
const SEED = 20_260_501;
const GENERATED = 150;

let edge: Edge;
let plugin: EnvoyPlugin | undefined;
let server: ExtAuthzServer | undefined;
let nodeAddress = "";
const collected = new Map<string, Input>();

beforeAll(async () => {
  edge = await makeEdge();
  const bundlePath = inject("bundlePath");
  const stepup = await Stepup.load(bundlePath, { onError: () => {}, onDecision: (e) => collected.set(e.decision.decision_id, e.input) });
  // The Node server with exactly the signals the edge settings give (no geography, no behaviour
  // store), so that both servers see the same request the same way.
  server = await ExtAuthzServer.fromSettings({
    stepup,
    settings: edge.settings,
    signals: { geo: false },
    guard: { onSignalError: () => {} },
    onError: () => {},
    timeoutMs: 30_000,
  });
  const [port] = await Promise.all([server.listen(), goClient(), startPlugin(bundlePath, edge.settings).then((p) => (plugin = p))]);
  nodeAddress = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.close(1_000);
  await plugin?.stop();
  await edge?.close();
});

interface Sent {
  readonly name: string;
  readonly check: EdgeCheck;
  readonly answers: Record<string, CheckOutcome>;
}

/** Every check through both clients to both servers. */
async function sendAll(checks: readonly { name: string; check: EdgeCheck }[]): Promise<Sent[]> {
  const node = { plugin: new NodeEnvoyClient(plugin!.grpcAddress), stepup: new NodeEnvoyClient(nodeAddress) };
  try {
    const viaGo = Object.fromEntries(
      await Promise.all(
        (["plugin", "stepup"] as const).map(async (s) => [
          s,
          await goCheck(s === "plugin" ? plugin!.grpcAddress : nodeAddress, checks.map((c) => ({ id: c.check.id, request: protoJson(c.check) }))),
        ]),
      ),
    ) as Record<"plugin" | "stepup", CheckOutcome[]>;
    const out: Sent[] = [];
    for (const [i, c] of checks.entries()) {
      const request = protoObject(c.check);
      out.push({
        ...c,
        answers: {
          "node→plugin": await node.plugin.check(request),
          "node→stepup": await node.stepup.check(request),
          "go→plugin": viaGo.plugin[i]!,
          "go→stepup": viaGo.stepup[i]!,
        },
      });
    }
    return out;
  } finally {
    node.plugin.close();
    node.stepup.close();
  }
}

function verdictOf(stepup: Stepup, input: Input) {
  const { outcome, tier, requirement, reasons, obligations } = normalised(stepup.evaluate(input));
  return { outcome, tier, requirement, reasons, obligations };
}

describe("Envoy ext_authz: opa-envoy-plugin and the Node server, through Node and Go clients", () => {
  it(`answer every scenario and ${GENERATED} generated inputs alike, and as the in-process decision of the mapped input`, async () => {
    const stepup = await testStepup();
    const catalogue = await scenarios();
    const corpus = [
      ...catalogue.map((s) => ({ name: s.name, input: s.input })),
      ...sampleInputs(SEED, GENERATED).map((input, i) => ({ name: `generated-${i}`, input })),
    ];
    const checks = await Promise.all(corpus.map(async (c) => ({ name: c.name, check: await edge.derive(c.input, `edge-${c.name}`) })));
    const sent = await sendAll(checks);
    const mapped = await plugin!.mappedInputs(sent.flatMap((s) => [s.answers["node→plugin"]!, s.answers["go→plugin"]!].map((a) => pluginDecisionId(a) ?? "missing")));

    const problems: string[] = [];
    const outcomes = new Set<string>();
    const carried: string[] = [];
    for (const [index, s] of sent.entries()) {
      const answers = Object.fromEntries(Object.entries(s.answers).map(([k, v]) => [k, fromOutcome(v)])) as Record<string, Answer>;
      // Decision ids: the plugin names Envoy's request id; the Node server names a decision it made.
      for (const key of ["node→plugin", "go→plugin"]) {
        const ids = decisionIds(answers[key]!);
        if (ids.length === 0 || ids.some((id) => id !== s.check.id)) problems.push(`${s.name} ${key}: decision ids ${JSON.stringify(ids)}, expected ${s.check.id}`);
      }
      const nodeInputs: Input[] = [];
      for (const key of ["node→stepup", "go→stepup"]) {
        const ids = [...new Set(decisionIds(answers[key]!))];
        const input = ids.length === 1 ? collected.get(ids[0]!) : undefined;
        if (!input) problems.push(`${s.name} ${key}: decision ids ${JSON.stringify(ids)} name no decision of the Node server`);
        else nodeInputs.push(input);
      }
      // The input each server decided on, and what the SDK answers in-process for it.
      const raw = mapped.get(pluginDecisionId(s.answers["node→plugin"]!) ?? "");
      let input: Input;
      try {
        input = parseInput(raw);
      } catch (err) {
        problems.push(`${s.name}: the plugin's mapped input breaks the contract: ${String(err)}\n  ${JSON.stringify(raw)}`);
        continue;
      }
      for (const n of nodeInputs) {
        if (canonical(n) !== canonical(input)) problems.push(`${s.name}: the servers mapped the request to different inputs:\n  plugin ${JSON.stringify(input)}\n  node   ${JSON.stringify(n)}`);
      }
      const decision: Decision = stepup.decideInput(input);
      const expected = comparable(inProcessAnswer(decision, input.session !== null, EDGE_REALM));
      for (const [key, answer] of Object.entries(answers)) {
        const got = comparable(answer);
        if (canonical(got) !== canonical(expected)) {
          problems.push(`${s.name} ${key}:\n  got      ${canonical(got)}\n  expected ${canonical(expected)}`);
        }
      }
      outcomes.add(decision.outcome);
      if (index < catalogue.length && canonical(verdictOf(stepup, input)) === canonical(verdictOf(stepup, corpus[index]!.input))) carried.push(s.name);
    }
    expect(problems.length, problems.slice(0, 8).join("\n\n")).toBe(0);
    // The catalogue reaches every outcome through the edge, so agreeing means something.
    expect([...outcomes].sort()).toEqual(["allow", "deny", "step_up"]);
    console.info(`Envoy: ${carried.length}/${catalogue.length} scenarios fully carried (same verdict as on the scenario's own input): ${carried.join(", ")}`);
  });
});
