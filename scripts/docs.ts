// Regenerates the generated documents (run by `make docs`): the JSON Schemas in schemas/, the
// input contract's Rego package, the packed entrypoint and its test, docs/scenarios.md from the
// scenario catalogue, and the contracts' generated code in src/contracts/generated/.
import { mkdirSync, writeFileSync } from "node:fs";
import { INPUT_CONTRACT_REGO, inputContractPolicy } from "../src/contracts/input-rego.js";
import { PACKED_REGO, PACKED_TEST_REGO, packedPolicy, packedPolicyTest } from "../src/contracts/packed.js";
import { jsonSchemas, policyInputSchema } from "../src/contracts/json-schema.js";
import { loadScenarios } from "../src/scenarios/catalog.js";
import { scenariosMarkdown } from "../src/scenarios/markdown.js";
import { contractCode } from "./contract-code.js";

mkdirSync("schemas/opa", { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(`schemas/${name}.schema.json`, `${JSON.stringify(schema, null, 2)}\n`);
}
writeFileSync("schemas/opa/input.json", `${JSON.stringify(policyInputSchema(), null, 2)}\n`);
writeFileSync(INPUT_CONTRACT_REGO, inputContractPolicy());
writeFileSync(PACKED_REGO, packedPolicy());
writeFileSync(PACKED_TEST_REGO, packedPolicyTest());
writeFileSync("docs/scenarios.md", scenariosMarkdown(await loadScenarios("scenarios")));
for (const [path, text] of contractCode()) writeFileSync(path, text);
