/**
 * The OPA sidecar (`opa run --server`, pinned static OPA, in a container built FROM scratch)
 * serving the bundle built for this run, and the remote engine talking to it: the same bundle,
 * the same decisions as in-process, failing closed within its timeout when the sidecar dies or
 * hangs, recovering when it returns; and the official REST client getting the same answers.
 */
import { OPAClient } from "@open-policy-agent/opa";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import { parseVerdict } from "../../src/decision/verdict.js";
import { EngineTimeoutError, EngineUnavailableError, type StepupErrors } from "../../src/errors.js";
import { RemoteStepup } from "../../src/remote-stepup.js";
import { runCli, scenarios, testStepup } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { normalised } from "../support/opa-eval.js";
import { sidecarMode, startSidecar, type Sidecar } from "../support/sidecar.js";

/** The remote engine's deadline in these tests: short, so that failing closed is quick to see. */
const TIMEOUT_MS = 400;
/** Slack for a loaded machine: the deadline is the engine's own, this only catches a hang. */
const GRACE_MS = 1_500;

let sidecar: Sidecar;
let remote: RemoteStepup;
const onError = vi.fn<(e: StepupErrors) => void>();

beforeAll(async () => {
  sidecar = await startSidecar(inject("bundlePath"));
  remote = await RemoteStepup.connect({ url: sidecar.url, timeoutMs: TIMEOUT_MS, onError });
});

afterAll(async () => {
  remote?.close();
  await sidecar?.stop();
});

const withoutId = ({ decision_id: _id, ...rest }: Decision) => rest;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("the OPA sidecar", () => {
  it("runs in a container unless a developer opted out, and CI refuses the opt-out", () => {
    if (process.env.CI) expect(sidecar.mode).toBe("container");
    expect(() => sidecarMode({ CI: "true", STEPUP_SIDECAR: "process" })).toThrow(/under CI/);
    expect(sidecarMode({ CI: "true" })).toBe("container");
    expect(sidecarMode({})).toBe("container");
    expect(sidecarMode({ STEPUP_SIDECAR: "process" })).toBe("process");
    expect(() => sidecarMode({ STEPUP_SIDECAR: "vm" })).toThrow(/STEPUP_SIDECAR/);
  });

  it("serves the very bundle the in-process engine loads: its revision and its metadata", async () => {
    const local = await testStepup();
    expect(await remote.health()).toEqual({ ok: true, status: 200 });
    expect(remote.revision).toBe("test-revision");
    const served = (await remote.engine.bundles()).filter((b) => b.metadata);
    expect(served).toHaveLength(1);
    expect(served[0]?.revision).toBe(local.revision);
    expect(served[0]?.metadata).toEqual(local.bundle.metadata);
  });

  it("gives the same rendered decision as the in-process SDK for every scenario", async () => {
    const local = await testStepup();
    for (const scenario of await scenarios()) {
      const remoteDecision = await remote.decideInput(scenario.input);
      expect(remoteDecision.error, scenario.name).toBeUndefined();
      expect(withoutId(remoteDecision), scenario.name).toEqual(withoutId(local.decideInput(scenario.input)));
    }
  });

  it("fails closed with a typed error within its timeout when killed mid-run, and recovers when it returns", async () => {
    const local = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const expected = inputs.map((input) => withoutId(local.decideInput(input)));
    const log: { decision: Decision; ms: number; expected: unknown }[] = [];
    let running = true;
    onError.mockClear();
    const run = (async () => {
      for (let i = 0; running; i++) {
        const k = i % inputs.length;
        const started = performance.now();
        const decision = await remote.decideInput(inputs[k] as (typeof inputs)[number]);
        log.push({ decision, ms: performance.now() - started, expected: expected[k] });
        await sleep(2);
      }
    })();
    try {
      await until("decisions before the kill", () => log.length >= 20);
      const killedAt = log.length;
      await sidecar.kill();
      await until("fail-closed decisions", () => log.slice(killedAt).filter((e) => e.decision.error).length >= 5);
      await sidecar.revive();
      const revivedAt = log.length;
      await until("decisions after the sidecar returned", () => log.slice(revivedAt).filter((e) => !e.decision.error).length >= 20);
      running = false;
      await run;

      // Before the kill, the policy's own decisions; after it, each is either that or the fail-closed deny.
      for (const e of log.slice(0, killedAt)) expect(withoutId(e.decision)).toEqual(e.expected);
      const failedClosed = log.filter((e) => e.decision.error);
      expect(failedClosed.length).toBeGreaterThanOrEqual(5);
      for (const e of log.slice(killedAt)) {
        if (!e.decision.error) {
          expect(withoutId(e.decision)).toEqual(e.expected);
          continue;
        }
        expect(e.decision).toMatchObject({ outcome: "deny", satisfied: false, policy: { revision: "test-revision" } });
        expect(e.decision.reasons.map((r) => r.code)).toEqual(["engine.failure"]);
        expect(["ERR_ENGINE_UNAVAILABLE", "ERR_ENGINE_TIMEOUT"]).toContain(e.decision.error.code);
        expect(e.ms).toBeLessThan(TIMEOUT_MS + GRACE_MS);
      }
      expect(onError).toHaveBeenCalledTimes(failedClosed.length);
      for (const [error] of onError.mock.calls) {
        expect(error instanceof EngineUnavailableError || error instanceof EngineTimeoutError).toBe(true);
      }
      // Once it is back, every decision is the policy's own again.
      const lastFailure = log.map((e) => Boolean(e.decision.error)).lastIndexOf(true);
      expect(lastFailure).toBeLessThan(revivedAt);
      expect(log.length - lastFailure - 1).toBeGreaterThanOrEqual(20);
    } finally {
      running = false;
      await run;
    }
  });

  it("fails closed with ERR_ENGINE_TIMEOUT when the sidecar hangs, and answers again when it resumes", async () => {
    const [scenario] = await scenarios();
    if (!scenario) throw new Error("no scenarios");
    const expected = withoutId((await testStepup()).decideInput(scenario.input));
    await sidecar.pause();
    try {
      const started = performance.now();
      const decision = await remote.decideInput(scenario.input);
      const ms = performance.now() - started;
      expect(decision).toMatchObject({ outcome: "deny", error: { code: "ERR_ENGINE_TIMEOUT" } });
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      expect(ms).toBeLessThan(TIMEOUT_MS + GRACE_MS);
    } finally {
      await sidecar.resume();
    }
    expect(withoutId(await remote.decideInput(scenario.input))).toEqual(expected);
  });

  it("answers the CLI's `scenarios --sidecar` as the catalogue expects", async () => {
    const result = await runCli(["scenarios", "--sidecar", sidecar.url, "--timeout", "5000"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/(\d+)\/\1 scenarios as expected \(bundle revision test-revision\)/);
  });

  it("refuses, through the CLI, a sidecar that is not there, naming the typed error", async () => {
    const input = JSON.stringify((await scenarios())[0]?.input);
    const down = await runCli(["eval", "--sidecar", "http://127.0.0.1:1", "-"], input);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/ERR_ENGINE_UNAVAILABLE/);
    expect(down.stdout).toBe("");
  });
});

describe("interoperability with the official REST client", () => {
  it("@open-policy-agent/opa gets the same decision from the sidecar as stepup's engines", async () => {
    const client = new OPAClient(sidecar.url);
    const local = await testStepup();
    const inputs = [...(await scenarios()).map((s) => s.input), ...sampleInputs(7, 200)];
    for (const input of inputs) {
      const official = normalised(parseVerdict(await client.evaluate("stepup/decision", input)));
      expect(official).toEqual(normalised(await remote.evaluate(input)));
      expect(official).toEqual(normalised(local.evaluate(input)));
    }
  });
});
