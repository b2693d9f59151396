import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../src/contracts/config.js";
import { InputSchema } from "../src/contracts/input.js";
import { INPUT_CONTRACT_REGO, inputContractPolicy } from "../src/contracts/input-rego.js";
import { PACKED_REGO, PACKED_TEST_REGO, packedPolicy, packedPolicyTest } from "../src/contracts/packed.js";
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

  it(`${PACKED_REGO} and its test follow the order src/contracts/packed.ts declares (run \`make docs\` after changing it)`, async () => {
    expect(await readFile(PACKED_REGO, "utf8")).toBe(packedPolicy());
    expect(await readFile(PACKED_TEST_REGO, "utf8")).toBe(packedPolicyTest());
  });

  it(`${INPUT_CONTRACT_REGO} is the contract's (run \`make docs\` after changing the input contract)`, async () => {
    expect(await readFile(INPUT_CONTRACT_REGO, "utf8")).toBe(inputContractPolicy());
  });

  it("keep every input field visible to opa check (no union with null left)", () => {
    expect(JSON.stringify(policyInputSchema())).not.toMatch(/"null"/);
  });
});

/** Every path of a JSON Schema whose values are numbers that need not be whole. */
function fractional(node: unknown, at = ""): string[] {
  if (Array.isArray(node)) return node.flatMap((n) => fractional(n, at));
  if (typeof node !== "object" || node === null) return [];
  const n = node as Record<string, unknown>;
  const number = n.type === "number" || (Array.isArray(n.type) && n.type.includes("number"));
  const here = number && !("const" in n) ? [at] : [];
  const properties = Object.entries((n.properties ?? {}) as Record<string, unknown>).flatMap(([k, v]) => fractional(v, at ? `${at}.${k}` : k));
  const rest = ["anyOf", "items", "additionalProperties"].flatMap((k) => (k in n ? fractional(n[k], at) : []));
  return [...here, ...properties, ...rest];
}

/** The policy's own Rego: every file that decides, without tests, the generated contract and the Envoy mapping. */
async function policyFiles(dir = "rego/stepup"): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !["contract", "envoy", "fixtures"].includes(entry.name)) out.push(...(await policyFiles(path)));
    else if (entry.isFile() && entry.name.endsWith(".rego") && !entry.name.endsWith("_test.rego")) out.push(path);
  }
  return out;
}

describe("exact arithmetic", () => {
  it("gives the policy whole numbers to compare: only the coordinates may be fractions, and the policy never reads them", async () => {
    expect(fractional(z.toJSONSchema(InputSchema, { io: "output" }))).toEqual(["geo.lat", "geo.lon"]);
    expect(fractional(z.toJSONSchema(ConfigSchema, { io: "output" }))).toEqual([]);
    for (const file of await policyFiles()) {
      const code = (await readFile(file, "utf8")).replace(/#.*$/gm, "");
      expect(code, file).not.toMatch(/\.(lat|lon)\b/);
      // Products and sums of whole numbers stay whole; a quotient or a remainder need not.
      expect(code, file).not.toMatch(/\s[/%]\s/);
    }
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
