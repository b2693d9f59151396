import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { jsonSchemas, policyInputSchema } from "../src/contracts/json-schema.js";
import { ERROR_CODES } from "../src/errors.js";
import { testStepup } from "./helpers.js";

describe("generated schemas", () => {
  it("are up to date in schemas/ (run `make schemas` after changing a contract)", async () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = JSON.parse(await readFile(`schemas/${name}.schema.json`, "utf8"));
      expect(committed, name).toEqual(schema);
    }
    expect(JSON.parse(await readFile("schemas/opa/input.json", "utf8"))).toEqual(policyInputSchema());
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
