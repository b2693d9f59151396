/**
 * The remote engine's own behaviour — keep-alive, deadline, retries and their budget, typed
 * errors — against a stand-in HTTP server that answers as a test scripts it. Decisions of the
 * real sidecar are tested in test/sidecar/.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { RemoteEngine } from "../../src/engine/remote/remote.js";
import { RetryBudget } from "../../src/engine/remote/retry-budget.js";
import { RemoteStepup } from "../../src/remote-stepup.js";
import { parseInput } from "../../src/input/validate.js";
import {
  EngineBadResponseError,
  EngineEvaluationError,
  EngineTimeoutError,
  EngineUndefinedError,
  EngineUnavailableError,
  type StepupErrors,
  ConfigInvalidError,
} from "../../src/errors.js";
import { scenarios, testStepup } from "../helpers.js";
import { json, startStandIn, type Handler, type StandIn } from "../support/stand-in-opa.js";

const input = parseInput({
  now: 1795852800,
  subject: { id: "alice@example.com", kind: "human" },
  target: { app: "wiki", action: "read" },
});

let standIn: StandIn | undefined;
let engine: RemoteEngine | undefined;
afterEach(async () => {
  engine?.close();
  await standIn?.close();
  engine = undefined;
  standIn = undefined;
});

async function serve(handler: Handler, options: { timeoutMs?: number; retries?: number } = {}) {
  standIn = await startStandIn(handler);
  engine = new RemoteEngine({ url: standIn.url, timeoutMs: options.timeoutMs ?? 2_000, retries: options.retries });
  return { standIn, engine };
}

async function failure(promise: Promise<unknown>): Promise<StepupErrors> {
  try {
    await promise;
  } catch (err) {
    return err as StepupErrors;
  }
  throw new Error("expected a rejection");
}

describe("the remote engine over HTTP", () => {
  it("posts the input to /v1/data/<path>?provenance and returns the result with the revisions", async () => {
    const bodies: unknown[] = [];
    const { engine, standIn } = await serve((_req, body, res) => {
      bodies.push(JSON.parse(body));
      json(res, 200, { result: { ok: 1 }, provenance: { bundles: { main: { revision: "r1" } } } });
    });
    await expect(engine.decide(input)).resolves.toEqual({ result: { ok: 1 }, revisions: { main: "r1" } });
    expect(standIn.requests).toEqual(["POST /v1/data/stepup/decision?provenance"]);
    expect(bodies).toEqual([{ input }]);
    expect(engine.revision).toBe("r1");
  });

  it("keeps one connection alive across sequential decisions", async () => {
    const { engine, standIn } = await serve((_req, _body, res) => json(res, 200, { result: true }));
    for (let i = 0; i < 25; i++) await engine.evaluate(input);
    expect(standIn.requests).toHaveLength(25);
    expect(standIn.connections).toBe(1);
  });

  it("reports an undefined decision as ERR_ENGINE_UNDEFINED", async () => {
    const { engine } = await serve((_req, _body, res) => json(res, 200, {}));
    expect(await failure(engine.evaluate(input))).toBeInstanceOf(EngineUndefinedError);
  });

  it("reports a body that is not JSON as ERR_ENGINE_BAD_RESPONSE, without retrying", async () => {
    const { engine, standIn } = await serve((_req, _body, res) => json(res, 200, "<html>proxy login</html>"));
    const error = await failure(engine.evaluate(input));
    expect(error).toBeInstanceOf(EngineBadResponseError);
    expect(error.message).toMatch(/not JSON/);
    expect(standIn.requests).toHaveLength(1);
  });

  it("reports a 4xx as ERR_ENGINE_BAD_RESPONSE with OPA's own error code", async () => {
    const { engine } = await serve((_req, _body, res) =>
      json(res, 400, { code: "invalid_parameter", message: "error(s) occurred while parsing input" }),
    );
    const error = await failure(engine.evaluate(input));
    expect(error).toBeInstanceOf(EngineBadResponseError);
    expect(error).toMatchObject({ code: "ERR_ENGINE_BAD_RESPONSE", status: 400 });
    expect(error.message).toMatch(/invalid_parameter/);
  });

  it("reports OPA's evaluation error (500 with OPA's body) as ERR_ENGINE_EVALUATION, without retrying", async () => {
    const { engine, standIn } = await serve((_req, _body, res) =>
      json(res, 500, { code: "internal_error", message: "eval_conflict_error: complete rules must not produce multiple outputs" }),
    );
    const error = await failure(engine.evaluate(input));
    expect(error).toBeInstanceOf(EngineEvaluationError);
    expect(error.message).toMatch(/eval_conflict_error/);
    expect(standIn.requests).toHaveLength(1);
  });

  it("retries a 503 once and succeeds when the second attempt does", async () => {
    let calls = 0;
    const { engine, standIn } = await serve((_req, _body, res) =>
      ++calls === 1 ? json(res, 503, "busy") : json(res, 200, { result: "second" }),
    );
    await expect(engine.evaluate(input)).resolves.toBe("second");
    expect(standIn.requests).toHaveLength(2);
  });

  it("gives up with ERR_ENGINE_UNAVAILABLE and the status after its retries", async () => {
    const { engine, standIn } = await serve((_req, _body, res) => json(res, 503, "down"), { retries: 2 });
    const error = await failure(engine.evaluate(input));
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error).toMatchObject({ status: 503 });
    expect(standIn.requests).toHaveLength(3);
  });

  it("stops retrying when the retry budget is spent, so an outage does not double the load", async () => {
    const { engine, standIn } = await serve((_req, _body, res) => json(res, 503, "down"));
    for (let i = 0; i < 10; i++) await failure(engine.evaluate(input));
    // 10 tokens, one per failure, retries while more than 5 are left: calls 1 and 2 retry, the rest do not.
    expect(standIn.requests).toHaveLength(12);
    expect(engine.retryTokens).toBe(0);
  });

  it("times out with ERR_ENGINE_TIMEOUT when nothing answers, and names its timeout", async () => {
    const { engine } = await serve(() => undefined, { timeoutMs: 150 });
    const started = performance.now();
    const error = await failure(engine.evaluate(input));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(EngineTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 150 });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    // Generous bound: the deadline is the engine's own, the slack is for a loaded machine.
    expect(elapsed).toBeLessThan(150 + 1_500);
  });

  it("reports a refused connection as ERR_ENGINE_UNAVAILABLE", async () => {
    const { standIn } = await serve((_req, _body, res) => json(res, 200, {}));
    const url = standIn.url;
    await standIn.close();
    const closedEngine = new RemoteEngine({ url, timeoutMs: 1_000 });
    try {
      const error = await failure(closedEngine.evaluate(input));
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect(error.message).toMatch(/ECONNREFUSED/);
    } finally {
      closedEngine.close();
    }
  });

  it("keeps credentials in the URL out of its messages", async () => {
    const { standIn } = await serve((_req, _body, res) => json(res, 503, "down"));
    const withSecret = new RemoteEngine({ url: standIn.url.replace("//", "//admin:s3cret-token@"), timeoutMs: 1_000 });
    try {
      const error = await failure(withSecret.evaluate(input));
      expect(error.message).not.toMatch(/s3cret/);
      expect(withSecret.url).toBe(standIn.url);
    } finally {
      withSecret.close();
    }
  });

  it("reports health from /health?bundles without throwing", async () => {
    let ready = false;
    const { engine, standIn } = await serve((_req, _body, res) => (ready ? json(res, 200, {}) : json(res, 500, { error: "not ready" })));
    expect(await engine.health()).toMatchObject({ ok: false, status: 500 });
    ready = true;
    expect(await engine.health()).toEqual({ ok: true, status: 200 });
    expect(standIn.requests).toEqual(["GET /health?bundles", "GET /health?bundles"]);
    await standIn.close();
    expect((await engine.health()).ok).toBe(false);
  });

  it("refuses a nonsensical configuration, naming the option", () => {
    expect(() => new RemoteEngine({ url: "http://127.0.0.1:1", timeoutMs: 0 })).toThrow(/ERR_CONFIG_INVALID|timeoutMs: expected a positive/);
    expect(() => new RemoteEngine({ url: "http://127.0.0.1:1", retries: -1 })).toThrow(/retries: expected a whole number/);
    expect(() => new RemoteEngine({ url: "not a url" })).toThrow(/url: expected an http or https URL/);
    expect(() => new RemoteEngine({ url: "ftp://127.0.0.1/" })).toThrow(ConfigInvalidError);
  });
});

describe("the retry budget", () => {
  it("allows retries while more than half its tokens are left and earns them back with successes", () => {
    const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5 });
    expect(budget.canRetry).toBe(true);
    budget.onFailure();
    expect(budget.canRetry).toBe(true);
    budget.onFailure();
    expect(budget.canRetry).toBe(false);
    budget.onSuccess();
    expect(budget.canRetry).toBe(true);
    for (let i = 0; i < 10; i++) budget.onSuccess();
    expect(budget.available).toBe(4);
  });
});

describe("RemoteStepup on a stand-in", () => {
  async function standInSidecar(revisions: { bundles: () => string; decision: () => string }) {
    const local = await testStepup();
    const verdict = local.evaluate(input);
    const manifest = () => ({ revision: revisions.bundles(), roots: ["stepup"], metadata: { stepup: local.bundle.metadata } });
    return serve((req, _body, res) => {
      if (req.url === "/v1/data/system/bundles") json(res, 200, { result: { main: { manifest: manifest() } } });
      else json(res, 200, { result: verdict, provenance: { bundles: { main: { revision: revisions.decision() } } } });
    });
  }

  it("refuses a sidecar that serves no stepup bundle", async () => {
    const { standIn } = await serve((_req, _body, res) => json(res, 200, { result: { other: { manifest: { revision: "x" } } } }));
    const error = await failure(RemoteStepup.connect({ url: standIn.url }));
    expect(error).toBeInstanceOf(EngineBadResponseError);
    expect(error.message).toMatch(/no bundle built by stepup/);
  });

  it("names the revision that decided, and reads the new catalog when the sidecar's bundle changes", async () => {
    let current = "rev-a";
    const { standIn } = await standInSidecar({ bundles: () => current, decision: () => current });
    const remote = await RemoteStepup.connect({ url: standIn.url, onError: () => {} });
    try {
      expect((await remote.decideInput(input)).policy.revision).toBe("rev-a");
      current = "rev-b";
      expect((await remote.decideInput(input)).policy.revision).toBe("rev-b");
      expect(remote.revision).toBe("rev-b");
      expect(standIn.requests.filter((r) => r.includes("system/bundles"))).toHaveLength(2);
    } finally {
      remote.close();
    }
  });

  it("follows the bundle when the sidecar serves it under another name", async () => {
    const local = await testStepup();
    const verdict = local.evaluate(input);
    let name = "bundles/old.tar.gz";
    const { standIn } = await serve((req, _body, res) => {
      const manifest = { revision: name === "bundles/old.tar.gz" ? "r1" : "r2", metadata: { stepup: local.bundle.metadata } };
      if (req.url === "/v1/data/system/bundles") json(res, 200, { result: { [name]: { manifest } } });
      else json(res, 200, { result: verdict, provenance: { bundles: { [name]: { revision: manifest.revision } } } });
    });
    const remote = await RemoteStepup.connect({ url: standIn.url });
    try {
      expect((await remote.decideInput(input)).policy.revision).toBe("r1");
      name = "/etc/opa/new.tar.gz";
      expect((await remote.decideInput(input)).policy.revision).toBe("r2");
    } finally {
      remote.close();
    }
  });

  it("fails closed with the typed error and reports it once", async () => {
    const onError = vi.fn<(e: StepupErrors) => void>();
    let up = true;
    const { standIn } = await serve((req, _body, res) => {
      if (!up) return json(res, 503, "down");
      json(res, 200, { result: { main: { manifest: { revision: "r", metadata: { stepup: { policy_version: "1", wasm: { entrypoint: "stepup/decision", module: "/policy.wasm" }, codes: {} } } } } } });
    });
    const remote = await RemoteStepup.connect({ url: standIn.url, onError, retries: 0 });
    try {
      up = false;
      const decision = await remote.decideInput(input);
      expect(decision).toMatchObject({ outcome: "deny", error: { code: "ERR_ENGINE_UNAVAILABLE" }, policy: { revision: "r" } });
      expect(decision.reasons.map((r) => r.code)).toEqual(["engine.failure"]);
      expect(onError).toHaveBeenCalledOnce();
      expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(EngineUnavailableError);
    } finally {
      remote.close();
    }
  });

  it("rejects invalid input with a typed error naming the field, before any call", async () => {
    const { standIn } = await standInSidecar({ bundles: () => "r", decision: () => "r" });
    const remote = await RemoteStepup.connect({ url: standIn.url });
    try {
      await expect(remote.decide({ now: 1, subject: { id: "a", kind: "human" } } as unknown)).rejects.toMatchObject({
        code: "ERR_INPUT_INVALID",
        issues: [{ path: "target", message: expect.stringMatching(/required/) }],
      });
      expect(standIn.requests.filter((r) => r.startsWith("POST"))).toHaveLength(0);
    } finally {
      remote.close();
    }
  });

  it("renders the same decision as the in-process SDK from the same verdict", async () => {
    const local = await testStepup();
    const scenario = (await scenarios())[0];
    if (!scenario) throw new Error("no scenarios");
    const verdict = local.evaluate(scenario.input);
    const { standIn } = await serve((req, _body, res) => {
      if (req.url === "/v1/data/system/bundles") {
        json(res, 200, { result: { main: { manifest: { revision: local.revision, metadata: { stepup: local.bundle.metadata } } } } });
      } else json(res, 200, { result: verdict, provenance: { bundles: { main: { revision: local.revision } } } });
    });
    const remote = await RemoteStepup.connect({ url: standIn.url, newId: () => "same-id" });
    try {
      const inProcess = local.decideInput(scenario.input);
      expect(await remote.decideInput(scenario.input)).toEqual({ ...inProcess, decision_id: "same-id" });
    } finally {
      remote.close();
    }
  });
});
