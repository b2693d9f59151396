import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const scenarioInput = async (name: string) =>
  JSON.stringify(JSON.parse(await readFile(`scenarios/${name}.json`, "utf8")).input);

describe("stepup eval", () => {
  it("prints the decision as JSON", async () => {
    const result = await runCli(["eval", "-"], await scenarioInput("managed-laptop-corporate-wiki"));
    expect(result.code).toBe(0);
    const decision = JSON.parse(result.stdout);
    expect(decision.outcome).toBe("allow");
    expect(decision.policy.revision).toBe("test-revision");
  });

  it("decides a scenario file's input, and rejects a wrapper that is not a scenario", async () => {
    const scenario = JSON.parse(await readFile("scenarios/kiosk-admin-console.json", "utf8")) as { input: object; expect: { outcome: string } };
    const result = await runCli(["eval", "scenarios/kiosk-admin-console.json"]);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { outcome: string }).outcome).toBe(scenario.expect.outcome);
    // A name beside an input's fields, without a scenario's input and expect: the field is unknown.
    const wrapped = await runCli(["eval", "-"], JSON.stringify({ ...scenario.input, name: "x" }));
    expect(wrapped.code).toBe(2);
    expect(wrapped.stderr).toMatch(/name: unknown field/);
  });

  const malformed: [string, string, RegExp][] = [
    ["a missing field", JSON.stringify({ now: 1, subject: { id: "a", kind: "human" } }), /target: is required/],
    [
      "a wrong type",
      JSON.stringify({ now: "soon", subject: { id: "a", kind: "human" }, target: { app: "wiki", action: "read" } }),
      /now: expected number, received string/,
    ],
    ["text that is not JSON", "allow me in", /ERR_INPUT_NOT_JSON: input is not JSON/],
    ["an empty document", "", /ERR_INPUT_NOT_JSON/],
  ];
  for (const [what, text, message] of malformed) {
    it(`exits non-zero on ${what}, naming the problem, and prints no decision`, async () => {
      const result = await runCli(["eval", "-"], text);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe("");
    });
  }

  it("exits non-zero when the input file does not exist", async () => {
    const result = await runCli(["eval", "no-such-file.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ENOENT/);
  });

  it("exits 2 when the bundle does not exist", async () => {
    const input = await scenarioInput("managed-laptop-corporate-wiki");
    const result = await runCli(["eval", "-", "--bundle", "no-such-bundle.tar.gz"], input);
    // A path that names nothing is the caller's mistake (docs/errors.md): exit 2.
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ERR_BUNDLE_NOT_FOUND/);
    expect(result.stdout).toBe("");
  });
});

describe("stepup explain", () => {
  it("explains a step-up for a person", async () => {
    const result = await runCli(["explain", "-"], await scenarioInput("suspicious-ip-unmanaged-crm"));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^STEP UP — read on crm \(tier standard\)/);
    expect(result.stdout).toMatch(/requirement: aal2, phishing-resistant, authenticated within 15 min/);
    expect(result.stdout).toMatch(/\+ 25 {2}network\.suspicious/);
    expect(result.stdout).toMatch(/\+ 20 {2}device\.unmanaged/);
    expect(result.stdout).toMatch(/session\.not_phishing_resistant .*\[PR\.AA-03\]/);
  });

  it("explains a deny with the hard stop", async () => {
    const result = await runCli(["explain", "-"], await scenarioInput("kiosk-admin-console"));
    expect(result.stdout).toMatch(/^DENY/);
    expect(result.stdout).toMatch(/stop\.shared_device .*\[PR\.AA-03, PR\.AA-05\]/);
  });
});

describe("stepup scenarios", () => {
  it("runs the catalogue and reports every scenario as expected", async () => {
    const result = await runCli(["scenarios", "scenarios"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/(\d+)\/\1 scenarios as expected \(bundle revision test-revision\)/);
  });
});
