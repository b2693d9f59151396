/**
 * Invariants of the policy that must hold for every input, checked with fast-check through the
 * SDK on the compiled wasm.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Decision, Requirement } from "../../src/contracts/decision.js";
import type { Input } from "../../src/contracts/input.js";
import type { Config } from "../../src/contracts/config.js";
import { parseInput } from "../../src/input/validate.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { Stepup } from "../../src/stepup.js";
import { inputArb, NOW } from "../support/arbitraries.js";
import { testStepup } from "../helpers.js";

const RUNS = { numRuns: 600, seed: 20261128 };

let stepup: Stepup;
let config: Config;
beforeAll(async () => {
  stepup = await testStepup();
  config = (stepup.bundle.data as { stepup: { config: Config } }).stepup.config;
});

const decide = (input: Input): Decision => stepup.decideInput(input);
const withoutId = ({ decision_id: _, ...rest }: Decision) => rest;
const OUTCOME_RANK = { allow: 0, step_up: 1, deny: 2 } as const;
const TIER_RANK = { low: 0, standard: 1, high: 2, critical: 3 } as const;

/** Whether `after` asks at least as much as `before`. */
function atLeastAsStrict(before: Requirement, after: Requirement): boolean {
  if (before.kind === "session" && after.kind === "session") {
    return (
      after.aal >= before.aal &&
      (!before.phishing_resistant || after.phishing_resistant) &&
      after.max_age <= before.max_age
    );
  }
  if (before.kind === "workload" && after.kind === "workload") {
    return (
      after.proof.every((p) => before.proof.includes(p)) &&
      after.storage.every((s) => before.storage.includes(s)) &&
      after.max_lifetime <= before.max_lifetime
    );
  }
  return false;
}

type Mutation = (input: Input) => Input | undefined;
const edit = (input: Input, change: (copy: Input) => void): Input => {
  const copy = structuredClone(input);
  change(copy);
  return copy;
};

/** Each adds one risk signal (or makes one worse); undefined when it does not apply to the input. */
const riskier: Record<string, Mutation> = {
  "device unattested": (i) => (i.device?.attested ? edit(i, (c) => void (c.device!.attested = false)) : undefined),
  "device unmanaged": (i) => (i.device ? edit(i, (c) => void (c.device!.managed = false)) : undefined),
  "device non-compliant": (i) => (i.device ? edit(i, (c) => void (c.device!.compliant = false)) : undefined),
  "device unencrypted": (i) => (i.device ? edit(i, (c) => void (c.device!.encrypted = false)) : undefined),
  "device without EDR": (i) => (i.device ? edit(i, (c) => void (c.device!.edr_running = false)) : undefined),
  "device unpatched": (i) =>
    i.device && (i.device.os_patch_age_days ?? 0) < 365 ? edit(i, (c) => void (c.device!.os_patch_age_days = 365)) : undefined,
  "device shared": (i) => (i.device ? edit(i, (c) => void (c.device!.kind = "shared")) : undefined),
  "network leaves the corporate zone": (i) =>
    i.network.zone === "corporate" || i.network.zone === "known" ? edit(i, (c) => void (c.network.zone = "external")) : undefined,
  "network suspicious": (i) =>
    i.network.reputation !== "malicious" ? edit(i, (c) => void (c.network.reputation = "suspicious")) : undefined,
  "network malicious": (i) => edit(i, (c) => void (c.network.reputation = "malicious")),
  "network through Tor": (i) =>
    i.network.anonymizer === "none" || i.network.anonymizer === null ? edit(i, (c) => void (c.network.anonymizer = "tor")) : undefined,
  "network through a VPN": (i) =>
    i.network.anonymizer === "none" || i.network.anonymizer === null ? edit(i, (c) => void (c.network.anonymizer = "vpn")) : undefined,
  "a less familiar context": (i) =>
    i.familiarity ? edit(i, (c) => void (c.familiarity!.novelty = Math.min(1_000_000, c.familiarity!.novelty + 700))) : undefined,
  "less history": (i) => (i.familiarity ? edit(i, (c) => void (c.familiarity!.history = 0)) : undefined),
  "privilege granted after the login": (i) =>
    i.session ? edit(i, (c) => void (c.subject.privilege_granted_at = NOW - 1)) : undefined,
  "more failed attempts": (i) =>
    edit(i, (c) => {
      const b = { ...emptyBehavior(), ...c.behavior };
      b.failed_attempts_recent = (b.failed_attempts_recent ?? 0) + 5;
      c.behavior = b;
    }),
  "privilege gained": (i) => edit(i, (c) => void (c.behavior = { ...emptyBehavior(), ...c.behavior, privilege_escalation: true })),
  "more prompts sent": (i) =>
    edit(i, (c) => {
      const b = { ...emptyBehavior(), ...c.behavior };
      b.prompts_recent = (b.prompts_recent ?? 0) + 3;
      c.behavior = b;
    }),
  "farther from the last login": (i) =>
    i.geo?.previous ? edit(i, (c) => void (c.geo!.distance_km = Math.min(50_000, (c.geo!.distance_km ?? 0) + 8000))) : undefined,
};

function emptyBehavior(): NonNullable<Input["behavior"]> {
  return {
    failed_attempts_recent: null,
    prompts_recent: null,
    privilege_escalation: null,
  };
}

describe("policy invariants", () => {
  it("(1) adding a risk signal never lowers the requirement nor turns step_up or deny into allow", () => {
    const names = Object.keys(riskier);
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...names), (input, name) => {
        const mutated = riskier[name]!(input);
        fc.pre(mutated !== undefined);
        const before = decide(input);
        const after = decide(mutated!);
        expect(OUTCOME_RANK[after.outcome], `${name}: ${before.outcome} → ${after.outcome}`).toBeGreaterThanOrEqual(
          before.outcome === "allow" ? 0 : 1,
        );
        expect(atLeastAsStrict(before.requirement, after.requirement), name).toBe(true);
      }),
      RUNS,
    );
  });

  it("(1) raising the target's tier never lowers the requirement nor turns step_up or deny into allow", () => {
    const targets = Object.entries(config.catalog.apps).flatMap(([app, entry]) =>
      ["read", ...Object.keys(entry.actions ?? {}), ...Object.keys(config.catalog.action_floors)].map((action) => ({ app, action })),
    );
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...targets), (input, target) => {
        const before = decide(input);
        const mutated = parseInput({ ...input, target: { ...target, resource: null } });
        const after = decide(mutated);
        fc.pre(TIER_RANK[after.target.tier] > TIER_RANK[before.target.tier]);
        expect(OUTCOME_RANK[after.outcome]).toBeGreaterThanOrEqual(before.outcome === "allow" ? 0 : 1);
        expect(atLeastAsStrict(before.requirement, after.requirement)).toBe(true);
      }),
      RUNS,
    );
  });

  it("(2) any single weak signal alone, on a standard target, with a session meeting the baseline, is allowed", () => {
    // Weak: fewer points than a standard target's lowest threshold, so it cannot raise the risk alone.
    const weakThreshold = config.thresholds.standard.medium;
    const weak: Record<string, (i: Input) => Input> = {
      "device.unknown": (i) => edit(i, (c) => void (c.device = null)),
      "device.unattested": (i) => edit(i, (c) => void (c.device = { ...c.device!, attested: false })),
      "device.patch_stale": (i) => edit(i, (c) => void (c.device!.os_patch_age_days = 45)),
      "device.unmanaged": (i) => edit(i, (c) => void (c.device!.managed = false)),
      "device.noncompliant": (i) => edit(i, (c) => void (c.device!.compliant = false)),
      "device.patch_very_stale": (i) => edit(i, (c) => void (c.device!.os_patch_age_days = 200)),
      "device.unencrypted": (i) => edit(i, (c) => void (c.device!.encrypted = false)),
      "device.edr_missing": (i) => edit(i, (c) => void (c.device!.edr_running = false)),
      "device.shared": (i) => edit(i, (c) => void (c.device!.kind = "shared")),
      "network.unknown": (i) => edit(i, (c) => void (c.network.zone = null)),
      "network.external": (i) => edit(i, (c) => void (c.network.zone = "external")),
      "network.vpn": (i) => edit(i, (c) => void (c.network.anonymizer = "vpn")),
      "network.proxy": (i) => edit(i, (c) => void (c.network.anonymizer = "proxy")),
      "network.hosting": (i) => edit(i, (c) => void (c.network.anonymizer = "hosting")),
      "behavior.new_subject": (i) => edit(i, (c) => void (c.familiarity!.history = 0)),
      "behavior.failed_attempts": (i) => edit(i, (c) => void (c.behavior!.failed_attempts_recent = 4)),
    };
    // Every signal the data weighs as weak has a case here (so a new weak signal is not left out);
    // a case whose signal is no longer weak in the data is not asked to be allowed.
    const weakInData = Object.entries(config.weights)
      .filter(([, points]) => points < weakThreshold)
      .map(([code]) => code);
    for (const code of weakInData) expect(weak[code], `no case for weak signal ${code}`).toBeDefined();

    const standardTargets = Object.entries(config.catalog.apps)
      .filter(([, a]) => a.tier === "standard" && (a.classification ?? "internal") === "internal")
      .map(([app]) => app);
    const baselineSession = fc.record({
      acr: fc.constantFrom("http://idmanagement.gov/ns/assurance/aal/2", "phr", "phrh"),
      amr: fc.constant(["pwd", "otp"]),
      auth_time: fc.integer({ min: NOW - 86_400, max: NOW }),
    });
    fc.assert(
      fc.property(fc.constantFrom(...standardTargets), baselineSession, fc.constantFrom(...weakInData), (app, session, code) => {
        const clean = parseInput({
          now: NOW,
          subject: { id: "alice@example.com", kind: "human" },
          session,
          device: { attested: true, managed: true, compliant: true, encrypted: true, edr_running: true, os_patch_age_days: 3, kind: "laptop" },
          network: { zone: "corporate", reputation: "good", anonymizer: "none" },
          behavior: { failed_attempts_recent: 0, prompts_recent: 0, privilege_escalation: false },
          familiarity: { history: 40, novelty: 0, unfamiliar: [] },
          target: { app, action: "read" },
        });
        expect(decide(clean).outcome).toBe("allow");
        const decision = decide(weak[code]!(clean));
        expect(decision.risk.contributions.map((c) => c.signal)).toEqual([code]);
        expect(decision.outcome, code).toBe("allow");
      }),
      RUNS,
    );
  });

  it("(3) services and workloads never get step_up", () => {
    const nonHuman = inputArb.map((i) => ({ ...i, subject: { ...i.subject, kind: "workload" as const } }));
    fc.assert(
      fc.property(fc.oneof(inputArb, nonHuman), (input) => {
        fc.pre(input.subject.kind !== "human");
        const decision = decide(input);
        expect(decision.outcome).not.toBe("step_up");
        expect(decision.requirement.kind).toBe("workload");
      }),
      RUNS,
    );
  });

  it("(4) an expired exception changes nothing (and the same exception unexpired does)", async () => {
    const subjects = ["alice@example.com", "bob@example.com", "svc-billing", "spiffe-workload"];
    const allCodes = Object.keys(stepup.bundle.metadata.codes);
    const exception = (expiresAt: number) => ({
      kind: "break_glass",
      subjects: Object.fromEntries(subjects.map((s) => [s, true])),
      apps: { "*": true },
      relaxes: allCodes,
      expires_at: expiresAt,
      approver: "test",
      reason: "property test",
    });
    const variant = async (expiresAt: number) => {
      const data = structuredClone(stepup.bundle.data) as { stepup: { config: Config; exception_index: Record<string, Record<string, true>> } };
      (data.stepup.config.exceptions as Record<string, unknown>)["prop-test"] = exception(expiresAt);
      // As the bundle build would index it (the policy finds a subject's exceptions there).
      for (const s of subjects) (data.stepup.exception_index[s] ??= {})["prop-test"] = true;
      const bundle = { ...stepup.bundle, data };
      return new Stepup(bundle, await WasmEngine.load(bundle), { onError: () => {} });
    };
    const expired = await variant(NOW - 1);
    const live = await variant(NOW + 86_400);
    let changedByLive = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(withoutId(expired.decideInput(input))).toEqual(withoutId(decide(input)));
        if (live.decideInput(input).exceptions.length > 0) changedByLive++;
      }),
      RUNS,
    );
    expect(changedByLive).toBeGreaterThan(0);
  });

  it("(5) every decision that is not allow has at least one reason", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decide(input);
        if (decision.outcome !== "allow") expect(decision.reasons.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("(6) the same input gives the same decision, on the same engine and on a fresh one", async () => {
    const other = await Stepup.load(stepup.bundle.source, { onError: () => {} });
    fc.assert(
      fc.property(inputArb, (input) => {
        const first = withoutId(decide(input));
        expect(withoutId(decide(input))).toEqual(first);
        expect(withoutId(other.decideInput(input))).toEqual(first);
      }),
      RUNS,
    );
  });
});
