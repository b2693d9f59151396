import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../src/contracts/config.js";
import { jsonSchemas, policyInputSchema } from "../src/contracts/json-schema.js";
import { scenariosMarkdown } from "../src/scenarios/markdown.js";
import { contractCode } from "../scripts/contract-code.js";
import { ERROR_CODES } from "../src/errors.js";
import { scenarios, testStepup } from "./helpers.js";

describe("generated documents", () => {
  it("docs/scenarios.md renders the current catalogue (run `make docs` after editing scenarios/)", async () => {
    expect(await readFile("docs/scenarios.md", "utf8")).toBe(scenariosMarkdown(await scenarios()));
  });

  it("schemas/ is up to date (run `make docs` after changing a contract)", async () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = JSON.parse(await readFile(`schemas/${name}.schema.json`, "utf8"));
      expect(committed, name).toEqual(schema);
    }
    expect(JSON.parse(await readFile("schemas/opa/input.json", "utf8"))).toEqual(policyInputSchema());
  });

  it("src/contracts/generated/ is what the contracts generate (run `make docs` after changing a contract)", async () => {
    for (const [path, text] of contractCode()) expect(await readFile(path, "utf8"), path).toBe(text);
  });

  it("keep every input field visible to opa check (no union with null left)", () => {
    expect(JSON.stringify(policyInputSchema())).not.toMatch(/"null"/);
  });
});

describe("error registry", () => {
  it("matches docs/errors.md in both directions", async () => {
    const doc = await readFile("docs/errors.md", "utf8");
    const documented = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe("tuning data", () => {
  it("meets the config contract", async () => {
    const data = JSON.parse(await readFile("rego/stepup/config/data.json", "utf8"));
    const result = ConfigSchema.safeParse(data);
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it("caps every group at least at its largest weight, so a single signal always counts in full", async () => {
    const data = ConfigSchema.parse(JSON.parse(await readFile("rego/stepup/config/data.json", "utf8")));
    for (const [code, points] of Object.entries(data.weights)) {
      const group = code.slice(0, code.indexOf(".")) as keyof typeof data.caps;
      expect(data.caps[group], code).toBeGreaterThanOrEqual(points);
    }
  });

  it("names only codes the policy knows in exceptions", async () => {
    const { bundle } = await testStepup();
    const data = ConfigSchema.parse(JSON.parse(await readFile("rego/stepup/config/data.json", "utf8")));
    for (const [id, exception] of Object.entries(data.exceptions)) {
      for (const code of exception.relaxes) expect(bundle.metadata.codes[code], `${id}: ${code}`).toBeDefined();
    }
  });
});

describe("scenario catalogue", () => {
  it("holds at least 25 named situations with every outcome", async () => {
    const catalogue = await scenarios();
    expect(catalogue.length).toBeGreaterThanOrEqual(25);
    expect(new Set(catalogue.map((s) => s.expect.outcome))).toEqual(new Set(["allow", "step_up", "deny"]));
  });
});

describe("code catalog", () => {
  it("describes every weighted signal", async () => {
    const { bundle } = await testStepup();
    const weights = (bundle.data as { stepup: { config: { weights: Record<string, number> } } }).stepup.config.weights;
    for (const code of Object.keys(weights)) expect(bundle.metadata.codes[code], code).toBeDefined();
  });

  it("gives every code a title, a message and at least one control reference", async () => {
    const { bundle } = await testStepup();
    for (const [code, entry] of Object.entries(bundle.metadata.codes)) {
      expect(entry.title.length, code).toBeGreaterThan(0);
      expect(entry.message.length, code).toBeGreaterThan(0);
      expect(entry.controls.length, code).toBeGreaterThan(0);
    }
  });
});
