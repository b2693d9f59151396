// Writes the JSON Schemas generated from the zod contracts into schemas/ (run by `make schemas`).
import { mkdirSync, writeFileSync } from "node:fs";
import { jsonSchemas, policyInputSchema } from "../src/contracts/json-schema.js";

mkdirSync("schemas/opa", { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(`schemas/${name}.schema.json`, `${JSON.stringify(schema, null, 2)}\n`);
}
writeFileSync("schemas/opa/input.json", `${JSON.stringify(policyInputSchema(), null, 2)}\n`);
