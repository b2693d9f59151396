/**
 * Parity across runtimes: every scenario of the catalogue and a seeded corpus of generated inputs,
 * each decided by the in-process wasm engine — with its fast paths, and on OPA's stock path
 * (`fastPaths: false`) — by the OPA sidecar over REST (the remote engine) and by `opa eval` on
 * the Rego without wasm. Runtimes are compared with each other, never with fixed
 * outcomes, so the suite holds while the policy changes. Any difference fails the suite and prints
 * the input with every differing field.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Input } from "../../src/contracts/input.js";
import { parseVerdict } from "../../src/decision/verdict.js";
import { isStepupError } from "../../src/errors.js";
import { RemoteStepup } from "../../src/remote-stepup.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios, testStepup } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";
import { normalised, opaEvalDecisions } from "../support/opa-eval.js";
import { inPool } from "../support/in-pool.js";
import { describeMismatch, differingFields, type RuntimeAnswer } from "../support/runtime-diff.js";
import { startSidecar, type Sidecar } from "../support/sidecar.js";

/** The corpus is reproducible: the same seed gives the same inputs. */
const SEED = 20_260_501;
const GENERATED = 2_000;
const IN_FLIGHT = 8;

interface Case {
  readonly label: string;
  readonly input: Input;
}

let sidecar: Sidecar | undefined;
let remote: RemoteStepup | undefined;

beforeAll(async () => {
  sidecar = await startSidecar(inject("bundlePath"));
  // A loaded CI machine may pause for a while; parity is about answers, not latency.
  remote = await RemoteStepup.connect({ url: sidecar.url, timeoutMs: 15_000, retries: 2 });
});

afterAll(async () => {
  remote?.close();
  await sidecar?.stop();
});

/** A runtime's answer as compared: the normalised verdict, or the error code it gave instead. */
function answer(raw: unknown): RuntimeAnswer {
  if (raw === undefined) return { error: "no decision" };
  try {
    return normalised(parseVerdict(raw));
  } catch (err) {
    return { error: isStepupError(err) ? err.code : String(err) };
  }
}

function failed(err: unknown): RuntimeAnswer {
  if (isStepupError(err) && err.code === "ERR_ENGINE_UNDEFINED") return { error: "no decision" };
  return { error: isStepupError(err) ? err.code : String(err) };
}

/** The in-process engine's answer for an input: the verdict, or the error it gave. */
function inProcess(stepup: Stepup, input: Input): RuntimeAnswer {
  try {
    return answer(stepup.evaluate(input));
  } catch (err) {
    return failed(err);
  }
}

describe("parity: in-process wasm (fast paths and stock), the sidecar over REST and opa eval on the Rego", () => {
  it(`decide every scenario and ${GENERATED} generated inputs (seed ${SEED}) alike`, async () => {
    const stepup = await testStepup();
    const stock = await Stepup.load(inject("bundlePath"), { onError: () => {}, fastPaths: false });
    expect(stepup.engineInfo).toMatchObject({ fastPaths: true, input: "values", result: "value-reader", fallbacks: [] });
    expect(stock.engineInfo).toMatchObject({ fastPaths: false, input: "json", result: "json", entrypoint: "stepup/decision" });
    const corpus: Case[] = [
      ...(await scenarios()).map((s) => ({ label: `scenario ${s.name}`, input: s.input })),
      ...sampleInputs(SEED, GENERATED).map((input, i) => ({ label: `generated #${i} (seed ${SEED})`, input })),
    ];
    const [rego, fromSidecar] = await Promise.all([
      opaEvalDecisions(corpus.map((c) => c.input)),
      inPool(corpus, IN_FLIGHT, async (c) => {
        try {
          return answer(await remote?.engine.evaluate(c.input));
        } catch (err) {
          return failed(err);
        }
      }),
    ]);

    const reports: string[] = [];
    const outcomes = new Set<string>();
    corpus.forEach((c, i) => {
      const wasm = inProcess(stepup, c.input);
      const answers = { wasm, "wasm stock": inProcess(stock, c.input), sidecar: fromSidecar[i], "opa eval": answer(rego[i]) };
      const differences = differingFields(answers);
      if (differences.length > 0) reports.push(describeMismatch(c.label, c.input, differences));
      outcomes.add((wasm as { outcome?: string }).outcome ?? "error");
    });

    const shown = reports.slice(0, 10).join("\n\n");
    const more = reports.length > 10 ? `\n\n… and ${reports.length - 10} more` : "";
    expect(reports.length, `${reports.length} of ${corpus.length} inputs decided differently:\n\n${shown}${more}`).toBe(0);
    // The corpus reaches every outcome, so agreeing means something.
    expect([...outcomes].sort()).toEqual(["allow", "deny", "step_up"]);
  });

  it("reports a difference with the input and each runtime's value of every differing field", async () => {
    const stepup = await testStepup();
    const scenario = (await scenarios()).find((s) => stepup.evaluate(s.input).requirement.kind === "session");
    if (!scenario) throw new Error("no scenario with a session requirement");
    const verdict = normalised(stepup.evaluate(scenario.input));
    const aal = verdict.requirement.kind === "session" ? verdict.requirement.aal : undefined;
    const other = aal === "aal1" ? "aal3" : "aal1";
    const tampered = { ...verdict, requirement: { ...verdict.requirement, aal: other }, reasons: [...verdict.reasons, "risk.extra"] };
    const differences = differingFields({ wasm: verdict, sidecar: verdict, "opa eval": tampered });
    expect(differences.map((d) => d.field)).toEqual([`reasons.${verdict.reasons.length}`, "requirement.aal"]);
    const report = describeMismatch(scenario.name, scenario.input, differences);
    expect(report).toContain(JSON.stringify(scenario.input));
    expect(report).toContain(`requirement.aal: wasm="${aal}"  sidecar="${aal}"  opa eval="${other}"`);
    expect(differingFields({ wasm: verdict, sidecar: { error: "ERR_ENGINE_TIMEOUT" } }).length).toBeGreaterThan(0);
  });

  it("draws the same corpus from the same seed", () => {
    expect(sampleInputs(SEED, 50)).toEqual(sampleInputs(SEED, 50));
  });
});
