import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract } from "tar";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { inject } from "vitest";
import { DecisionSchema } from "../src/contracts/decision.js";
import { bundleFromFiles, loadBundle } from "../src/bundle/load.js";
import { mismatches } from "../src/scenarios/catalog.js";
import { Stepup } from "../src/stepup.js";
import { parseInput } from "../src/input/validate.js";
import { BundleInvalidError, BundleNotFoundError, InputInvalidError, type StepupErrors } from "../src/errors.js";
import type { Engine } from "../src/engine/engine.js";
import { WasmEngine } from "../src/engine/inprocess/wasm.js";
import { scenarios, testStepup } from "./helpers.js";

describe("the SDK on the compiled bundle", () => {
  it("decides every scenario of the catalogue as expected", async () => {
    const stepup = await testStepup();
    for (const scenario of await scenarios()) {
      const decision = stepup.decideInput(scenario.input);
      expect(mismatches(scenario, decision), scenario.name).toEqual([]);
    }
  });

  it("gives allow, step_up and deny across the catalogue", async () => {
    const stepup = await testStepup();
    const outcomes = new Set((await scenarios()).map((s) => stepup.decideInput(s.input).outcome));
    expect([...outcomes].sort()).toEqual(["allow", "deny", "step_up"]);
  });

  it("returns decisions that meet the decision contract and name the bundle revision", async () => {
    const stepup = await testStepup();
    for (const scenario of await scenarios()) {
      const decision = stepup.decideInput(scenario.input);
      expect(DecisionSchema.safeParse(decision).success, scenario.name).toBe(true);
      expect(decision.policy).toEqual({ revision: "test-revision", version: stepup.bundle.metadata.policy_version });
    }
  });

  it("explains every contribution and reason with text and controls from the bundle", async () => {
    const stepup = await testStepup();
    for (const scenario of await scenarios()) {
      const decision = stepup.decideInput(scenario.input);
      for (const c of decision.risk.contributions) expect(c.detail, c.signal).not.toMatch(/^No description/);
      for (const r of decision.reasons) {
        expect(r.message, r.code).not.toMatch(/^No description/);
        expect(r.controls.length, r.code).toBeGreaterThan(0);
      }
      if (decision.outcome !== "allow") expect(decision.reasons.length, scenario.name).toBeGreaterThan(0);
    }
  });

  it("gives the same decision for the same input", async () => {
    const stepup = await testStepup();
    for (const scenario of await scenarios()) {
      const { decision_id: _a, ...first } = stepup.decideInput(scenario.input);
      const { decision_id: _b, ...second } = stepup.decideInput(scenario.input);
      expect(second).toEqual(first);
    }
  });

  it("refuses invalid input with a typed error instead of deciding", async () => {
    const stepup = await testStepup();
    expect(() => stepup.decide({ now: 1, subject: { id: "a", kind: "human" } } as unknown)).toThrow(InputInvalidError);
  });
});

describe("loading bundles", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-sdk-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the same bundle from a tar.gz and from a directory", async () => {
    const unpacked = join(dir, "unpacked");
    await import("node:fs/promises").then((fs) => fs.mkdir(unpacked));
    await extract({ file: inject("bundlePath"), cwd: unpacked });
    const fromDir = await Stepup.load(unpacked);
    const fromTar = await testStepup();
    expect(fromDir.revision).toBe("test-revision");
    for (const scenario of await scenarios()) {
      const { decision_id: _a, ...a } = fromDir.decideInput(scenario.input);
      const { decision_id: _b, ...b } = fromTar.decideInput(scenario.input);
      expect(a).toEqual(b);
    }
  });

  it("reports a missing bundle", async () => {
    await expect(loadBundle(join(dir, "nope.tar.gz"))).rejects.toBeInstanceOf(BundleNotFoundError);
  });

  it("reports a file that is not a gzip archive", async () => {
    const path = join(dir, "junk.tar.gz");
    await writeFile(path, "not an archive");
    await expect(loadBundle(path)).rejects.toThrow(BundleInvalidError);
  });

  it("reports a bundle without stepup metadata or wasm", async () => {
    const bundle = await loadBundle(inject("bundlePath"));
    const noManifest = new Map(bundle.files);
    noManifest.delete(".manifest");
    expect(() => bundleFromFiles(noManifest, "x")).toThrow(/no .manifest/);
    const noWasm = new Map(bundle.files);
    noWasm.delete("policy.wasm");
    expect(() => bundleFromFiles(noWasm, "x")).toThrow(/no wasm module/);
  });

  it("reports a wasm module that does not compile", async () => {
    const bundle = await loadBundle(inject("bundlePath"));
    const files = new Map(bundle.files);
    files.set("policy.wasm", new Uint8Array([0, 97, 115, 109, 9, 9, 9]));
    const path = join(dir, "broken");
    for (const [name, bytes] of files) {
      await import("node:fs/promises").then(async (fs) => {
        await fs.mkdir(join(path, name, ".."), { recursive: true });
        await fs.writeFile(join(path, name), bytes);
      });
    }
    await expect(Stepup.load(path)).rejects.toThrow(/policy.wasm does not load/);
  });
});

describe("failing closed", () => {
  const input = parseInput({
    now: 1795852800,
    subject: { id: "alice", kind: "human" },
    target: { app: "intranet", action: "read" },
  });

  async function withEngine(evaluate: Engine["evaluate"]) {
    const bundle = (await testStepup()).bundle;
    const onError = vi.fn<(e: StepupErrors) => void>();
    const stepup = new Stepup(bundle, { revision: bundle.revision, evaluate }, { onError });
    return { stepup, onError };
  }

  it("denies and reports when the engine fails in any way", async () => {
    const { stepup, onError } = await withEngine(() => {
      throw new TypeError("boom");
    });
    const decision = stepup.decideInput(input);
    expect(decision.outcome).toBe("deny");
    expect(decision.error).toEqual({ code: "ERR_ENGINE_EVALUATION", message: "engine failed: boom" });
    expect(onError).toHaveBeenCalledOnce();
    expect(onError.mock.calls[0]?.[0].code).toBe("ERR_ENGINE_EVALUATION");
  });

  it("keeps the decision when an onDecision listener throws, and calls it once", async () => {
    const bundle = (await testStepup()).bundle;
    const onDecision = vi.fn(() => {
      throw new Error("listener broke");
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const stepup = new Stepup(bundle, await WasmEngine.load(bundle), { onDecision, onError: () => {} });
      const decision = stepup.decideInput(parseInput({ ...input, session: { acr: "phr", auth_time: 1795852000 } }));
      expect(decision.outcome).toBe("allow");
      expect(decision.error).toBeUndefined();
      expect(onDecision).toHaveBeenCalledOnce();
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/onDecision listener failed/);
    } finally {
      stderr.mockRestore();
    }
  });

  it("hands listeners and failures the normalized input when deciding a caller's document", async () => {
    const bundle = (await testStepup()).bundle;
    // Absent fields the contract fills with null: listeners must see them filled, and the
    // caller's document must stay as it was.
    const raw = { now: 1795852800, subject: { id: "alice", kind: "human" }, target: { app: "intranet", action: "read" } };
    const before = structuredClone(raw);
    const events: unknown[] = [];
    const listened = new Stepup(bundle, await WasmEngine.load(bundle), { onDecision: (e) => void events.push(e.input), onError: () => {} });
    const decision = listened.decide(raw as unknown);
    expect(decision.target).toEqual({ app: "intranet", action: "read", tier: "low" });
    expect(events).toEqual([parseInput(raw)]);
    expect(raw).toEqual(before);

    const engine = await WasmEngine.load(bundle);
    engine.takeChecked = (doc, parsed) => {
      const taken = WasmEngine.prototype.takeChecked.call(engine, doc, parsed);
      return (
        taken && {
          input: taken.input,
          evaluate: () => {
            throw new TypeError("boom");
          },
        }
      );
    };
    const seen: unknown[] = [];
    const failing = new Stepup(bundle, engine, { onError: (_e, input) => void seen.push(input) });
    const denied = failing.decide(raw as unknown);
    expect(denied.outcome).toBe("deny");
    expect(denied.target).toEqual({ app: "intranet", action: "read", tier: "critical" });
    expect(seen).toEqual([parseInput(raw)]);
  });

  it("denies when the policy returns something that is not a verdict", async () => {
    const { stepup, onError } = await withEngine(() => ({ outcome: "allow" }));
    const decision = stepup.decideInput(input);
    expect(decision.outcome).toBe("deny");
    expect(decision.error?.code).toBe("ERR_DECISION_INVALID");
    expect(decision.reasons.map((r) => r.code)).toEqual(["engine.failure"]);
    expect(onError).toHaveBeenCalledOnce();
    expect(DecisionSchema.safeParse(decision).success).toBe(true);
  });

  it("denies when the policy is undefined for the input", async () => {
    const bundle = (await testStepup()).bundle;
    const { EngineUndefinedError } = await import("../src/errors.js");
    const stepup = new Stepup(
      bundle,
      {
        revision: bundle.revision,
        evaluate: () => {
          throw new EngineUndefinedError("no decision");
        },
      },
      { onError: () => {} },
    );
    const decision = stepup.decideInput(input);
    expect(decision.outcome).toBe("deny");
    expect(decision.error?.code).toBe("ERR_ENGINE_UNDEFINED");
    expect(decision.policy.revision).toBe("test-revision");
  });
});
