/**
 * Report-only rollout in the SDK: a candidate decides beside the active revision on the same
 * inputs, after the enforced decision has been returned; its outcome is in the decision event,
 * never in the decision. A candidate that aborts on every input, or that does not even compile,
 * changes nothing enforced. Promotion and rollback switch in one call, and are recorded.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { bundleFromFiles, loadBundle, type Bundle } from "../../src/bundle/load.js";
import type { Decision } from "../../src/contracts/decision.js";
import type { RolloutRecord } from "../../src/contracts/decision-log.js";
import type { Input } from "../../src/contracts/input.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import { RolloutInvalidError, TargetUnmappedError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { abortingBundle, weightRaisedBundle, withRevision } from "../support/bundles.js";

const strip = ({ decision_id: _id, ...rest }: Decision) => rest;

describe("a candidate beside the active revision", () => {
  let dir: string;
  let active: Bundle;
  let candidate: Bundle;
  let aborting: Bundle;
  let inputs: Input[];
  let reference: Stepup;
  let candidateAlone: Stepup;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-shadow-"));
    active = await loadBundle(inject("bundlePath"));
    candidate = await loadBundle((await weightRaisedBundle(dir, "candidate-1")).path);
    aborting = await loadBundle(await abortingBundle(dir, "aborting-1"));
    inputs = [...(await scenarios()).map((s) => s.input), ...sampleInputs(29, 200)];
    reference = await Stepup.create(active, { onError: () => {} });
    candidateAlone = await Stepup.create(candidate, { onError: () => {} });
  }, 180_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function shadowed(candidateBundle: Bundle, extra: Partial<Parameters<typeof Stepup.create>[1]> = {}) {
    const events: DecisionEvent[] = [];
    const rollouts: RolloutRecord[] = [];
    const errors: string[] = [];
    const stepup = await Stepup.create(active, {
      onDecision: (e) => events.push(e),
      onError: (e) => errors.push(e.code),
      onRollout: (r) => rollouts.push(r),
      ...extra,
    });
    await stepup.setCandidate(candidateBundle);
    return { stepup, events, rollouts, errors };
  }

  it("enforces the active revision's decisions and records the candidate's beside them, after returning", async () => {
    const { stepup, events, rollouts } = await shadowed(candidate);
    expect(rollouts.map((r) => [r.action, r.active, r.candidate])).toEqual([["candidate_set", "test-revision", "candidate-1"]]);
    const decisions = inputs.map((input) => {
      const decision = stepup.decideInput(input);
      return decision;
    });
    // Nothing announced yet: the candidate decides on a later turn of the event loop.
    expect(events).toHaveLength(0);
    await stepup.settled();
    expect(events).toHaveLength(inputs.length);
    let changed = 0;
    for (const [i, input] of inputs.entries()) {
      expect(strip(decisions[i]!)).toEqual(strip(reference.decideInput(input)));
      const event = events[i]!;
      expect(event.decision).toBe(decisions[i]);
      const direct = candidateAlone.evaluate(input);
      expect(event.shadow).toEqual({ revision: "candidate-1", outcome: direct.outcome, tier: direct.tier, reasons: direct.reasons, score: direct.risk.score });
      if (direct.outcome !== decisions[i]!.outcome) changed++;
    }
    // The raised weight changes some outcomes, or the comparison would prove nothing.
    expect(changed).toBeGreaterThan(0);
  });

  it("changes nothing enforced when the candidate aborts on every input", async () => {
    const { stepup, events, errors } = await shadowed(aborting);
    const decisions = inputs.map((input) => stepup.decideInput(input));
    await stepup.settled();
    for (const [i, input] of inputs.entries()) {
      expect(strip(decisions[i]!)).toEqual(strip(reference.decideInput(input)));
      expect(decisions[i]!.error).toBeUndefined();
      expect(events[i]!.shadow).toMatchObject({ revision: "aborting-1", outcome: "deny", reasons: ["engine.failure"], error: { code: "ERR_ENGINE_EVALUATION" } });
      expect(events[i]!.shadow?.error?.message).toMatch(/var assignment conflict/);
    }
    // The candidate's failures are its own: the active revision's failure hook never heard of them.
    expect(errors).toEqual([]);
  });

  it("refuses a candidate that does not compile, keeping the active revision and the candidate held", async () => {
    const { stepup, events, rollouts } = await shadowed(candidate);
    const files = withRevision(candidate.files, "corrupt");
    files.set("policy.wasm", new Uint8Array([0, 97, 115, 109, 9, 9]));
    await expect(stepup.setCandidate(bundleFromFiles(files, "corrupt"))).rejects.toMatchObject({ code: "ERR_BUNDLE_INVALID" });
    await expect(stepup.loadCandidate(join(dir, "missing.tar.gz"))).rejects.toMatchObject({ code: "ERR_BUNDLE_NOT_FOUND" });
    expect(rollouts.map((r) => [r.action, r.error?.code])).toEqual([
      ["candidate_set", undefined],
      ["candidate_failed", "ERR_BUNDLE_INVALID"],
      ["candidate_failed", "ERR_BUNDLE_NOT_FOUND"],
    ]);
    expect(stepup.revision).toBe("test-revision");
    expect(stepup.candidate?.revision).toBe("candidate-1");
    const decision = stepup.decideInput(inputs[0]!);
    await stepup.settled();
    expect(strip(decision)).toEqual(strip(reference.decideInput(inputs[0]!)));
    expect(events[0]!.shadow?.revision).toBe("candidate-1");
  });

  it("records the same failure for the candidate when the caller fails closed", async () => {
    const { stepup, events } = await shadowed(candidate);
    stepup.failClosed(inputs[0]!, new TargetUnmappedError("GET", "/nowhere"));
    await stepup.settled();
    expect(events[0]!.decision.error?.code).toBe("ERR_TARGET_UNMAPPED");
    expect(events[0]!.shadow).toMatchObject({ revision: "candidate-1", outcome: "deny", error: { code: "ERR_TARGET_UNMAPPED" } });
  });

  it("promotes and rolls back in one call each, announcing earlier decisions before the switch", async () => {
    const { stepup, events, rollouts } = await shadowed(candidate);
    const before = stepup.decideInput(inputs[1]!);
    const promoted = stepup.promote({ by: "alice" });
    // The decision made before the promotion was compared and announced at the switch.
    expect(events.map((e) => [e.decision.decision_id, e.shadow?.revision])).toEqual([[before.decision_id, "candidate-1"]]);
    expect(promoted).toMatchObject({ action: "promoted", active: "candidate-1", previous: "test-revision", by: "alice" });
    expect(promoted).not.toHaveProperty("candidate");
    expect(stepup.revision).toBe("candidate-1");
    expect(stepup.candidate).toBeUndefined();
    const after = stepup.decideInput(inputs[1]!);
    expect(strip(after)).toEqual(strip(candidateAlone.decideInput(inputs[1]!)));
    expect(events.at(-1)?.shadow).toBeUndefined();
    expect(() => stepup.promote()).toThrow(RolloutInvalidError);

    const rolled = stepup.rollback({ by: "bob" });
    expect(rolled).toMatchObject({ action: "rolled_back", active: "test-revision", previous: "candidate-1", candidate: "candidate-1", by: "bob" });
    expect(stepup.revision).toBe("test-revision");
    expect(stepup.candidate?.revision).toBe("candidate-1");
    expect(() => stepup.rollback()).toThrow(expect.objectContaining({ code: "ERR_ROLLOUT_INVALID" }));
    expect(rollouts.map((r) => r.action)).toEqual(["candidate_set", "promoted", "rolled_back"]);

    // Activating the candidate's revision (a bundle client seeing it on the active channel) promotes it.
    await stepup.activate(candidate);
    expect(rollouts.at(-1)).toMatchObject({ action: "promoted", active: "candidate-1" });
    // And activating the revision just replaced rolls back.
    await stepup.activate(active);
    expect(rollouts.at(-1)).toMatchObject({ action: "rolled_back", active: "test-revision", candidate: "candidate-1" });
    stepup.clearCandidate();
    expect(rollouts.at(-1)).toMatchObject({ action: "candidate_cleared", active: "test-revision" });
    expect(stepup.candidate).toBeUndefined();
  });

  it("sheds the comparison, never the decision, when the candidate's queue is full", async () => {
    const { stepup, events } = await shadowed(candidate, { shadow: { maxPending: 5 } });
    for (const input of inputs.slice(0, 12)) stepup.decideInput(input);
    // The seven beyond the queue's room are announced at once, marked skipped.
    expect(events).toHaveLength(7);
    for (const event of events) expect(event.shadow).toEqual({ revision: "candidate-1", skipped: "queue_full" });
    await stepup.settled();
    expect(events).toHaveLength(12);
    expect(events.filter((e) => e.shadow?.outcome !== undefined)).toHaveLength(5);
  });
});
