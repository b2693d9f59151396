/**
 * Malformed CheckRequests get a defined response from both servers, never a crash: a request
 * without what a decision needs (attributes, method, path, time) or with a target that breaks the
 * input contract is denied (403, fail closed); an oversized token is an invalid token (401); a
 * message over the size limit is RESOURCE_EXHAUSTED; bytes that are not a CheckRequest or carry a
 * string that is not UTF-8 are refused — by opa-envoy-plugin with a gRPC error (Envoy then
 * applies its failure_mode_allow, false by default), by the Node server with the fail-closed 403.
 * Both servers keep answering afterwards.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExtAuthzServer } from "../../src/enforcement/envoy/server.js";
import { Stepup } from "../../src/stepup.js";
import { fromOutcome, type Answer } from "../support/envoy/answers.js";
import { makeEdge, protoObject, type Edge, type EdgeCheck } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { startPlugin, type EnvoyPlugin } from "../support/envoy/plugin.js";

const T0 = 1_795_852_800;
const GRPC = { INTERNAL: 13, RESOURCE_EXHAUSTED: 8 };

let edge: Edge;
let plugin: EnvoyPlugin | undefined;
let server: ExtAuthzServer | undefined;
const clients: Record<string, NodeEnvoyClient> = {};
const reported: string[] = [];

beforeAll(async () => {
  edge = await makeEdge();
  const bundlePath = inject("bundlePath");
  const stepup = await Stepup.load(bundlePath, { onError: () => {} });
  server = await ExtAuthzServer.fromSettings({
    stepup,
    settings: edge.settings,
    signals: { geo: false },
    guard: { onSignalError: () => {} },
    onError: (e) => reported.push(e.code),
    timeoutMs: 30_000,
  });
  const [port] = await Promise.all([server.listen(), startPlugin(bundlePath, edge.settings, { decisionLogs: false }).then((p) => (plugin = p))]);
  clients.plugin = new NodeEnvoyClient(plugin!.grpcAddress);
  clients.stepup = new NodeEnvoyClient(`127.0.0.1:${port}`);
});

afterAll(async () => {
  for (const c of Object.values(clients)) c.close();
  await server?.close(1_000);
  await plugin?.stop();
  await edge?.close();
});

const base: EdgeCheck = {
  id: "malformed-1",
  time: T0,
  method: "GET",
  path: "/wiki/home",
  headers: { host: "app.edge.test" },
  address: "198.51.100.30",
  principal: null,
  certificate: null,
  extensions: {},
};

async function both(request: Record<string, unknown>): Promise<Record<string, Answer>> {
  return { plugin: fromOutcome(await clients.plugin!.check(request)), stepup: fromOutcome(await clients.stepup!.check(request)) };
}

async function bothRaw(bytes: Buffer): Promise<Record<string, Answer>> {
  return { plugin: fromOutcome(await clients.plugin!.checkRaw(bytes)), stepup: fromOutcome(await clients.stepup!.checkRaw(bytes)) };
}

function expectFailClosed(answer: Answer): void {
  expect(answer).toMatchObject({ grpc: 0, status: 7, allowed: false, http_status: 403, body: { error: "access_denied", reasons: ["engine.failure"] } });
}

describe("malformed CheckRequests", () => {
  it("deny a request without attributes, HTTP request, method, path or time (fail closed)", async () => {
    const full = protoObject(base) as { attributes: { request: { http: Record<string, unknown> } } };
    const cases: Record<string, unknown>[] = [
      {},
      { attributes: {} },
      { attributes: { source: (full.attributes as Record<string, unknown>).source } },
      { attributes: { request: { time: { seconds: T0 } } } },
      { attributes: { request: { http: { ...full.attributes.request.http, method: "" } } } },
      { attributes: { request: { time: { seconds: T0 }, http: { ...full.attributes.request.http, path: "" } } } },
    ];
    for (const request of cases) {
      const answers = await both(request);
      expectFailClosed(answers.plugin!);
      expectFailClosed(answers.stepup!);
    }
    expect(reported.filter((c) => c === "ERR_CHECK_REQUEST_INVALID").length).toBe(cases.length);
  });

  it("deny a target that breaks the input contract", async () => {
    for (const app of ["x".repeat(129), ""]) {
      const answers = await both(protoObject({ ...base, extensions: { stepup_app: app } }));
      expectFailClosed(answers.plugin!);
      expectFailClosed(answers.stepup!);
    }
  });

  it("answer an oversized or malformed bearer token with invalid_token", async () => {
    for (const authorization of [`Bearer ${"A".repeat(64 * 1024)}`, "Bearer a b", `Bearer ${"x.".repeat(5000)}y`]) {
      const answers = await both(protoObject({ ...base, headers: { ...base.headers, authorization } }));
      for (const answer of Object.values(answers)) {
        expect(answer).toMatchObject({ status: 7, http_status: 401, body: { error: "invalid_token" } });
        expect(answer.headers["www-authenticate"]).toContain('error="invalid_token"');
      }
    }
  });

  it("ignore oversized headers that carry no signal, and refuse a message over 4 MiB", async () => {
    const big = await both(protoObject({ ...base, headers: { ...base.headers, "x-padding": "p".repeat(512 * 1024), cookie: "c=".repeat(50_000) } }));
    expect(big.plugin!.http_status).toBe(401); // anonymous on the wiki: a step-up, as without the padding
    expect(big.stepup!.http_status).toBe(401);
    const huge = await both(protoObject({ ...base, headers: { ...base.headers, "x-padding": "p".repeat(5 * 1024 * 1024) } }));
    expect(huge.plugin!.grpc).toBe(GRPC.RESOURCE_EXHAUSTED);
    expect(huge.stepup!.grpc).toBe(GRPC.RESOURCE_EXHAUSTED);
  });

  it("refuse a header value that is not UTF-8, and bytes that are not a CheckRequest", async () => {
    const marker = "@@MARK@@";
    const encoded = clients.stepup!.encode(protoObject({ ...base, headers: { ...base.headers, "x-name": marker } }));
    const at = encoded.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    const invalid = Buffer.from(encoded);
    Buffer.from([0x41, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]).copy(invalid, at);
    for (const bytes of [invalid, Buffer.from("this is not a protobuf message at all \u0000\u00ff")]) {
      const answers = await bothRaw(bytes);
      expect(answers.plugin!.grpc).toBe(GRPC.INTERNAL);
      expectFailClosed(answers.stepup!);
    }
  });

  it("let the plugin refuse a path it cannot unescape (400), while the Node server decides it", async () => {
    const answers = await both(protoObject({ ...base, path: "/wiki/%zz" }));
    expect(answers.plugin).toMatchObject({ status: 7, http_status: 400 });
    expect(answers.stepup).toMatchObject({ status: 7, http_status: 401 });
  });

  it("keep answering afterwards", async () => {
    const answers = await both(protoObject(base));
    expect(answers.plugin!.http_status).toBe(401);
    expect(answers.stepup).toEqual({ ...answers.plugin, headers: answers.stepup!.headers, body: answers.stepup!.body, metadata: answers.stepup!.metadata });
  });
});
