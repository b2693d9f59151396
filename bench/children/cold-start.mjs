// One cold start in a fresh process: import the SDK (dist/, as users run it), load the bundle,
// make the first decision. Prints the phases in milliseconds as JSON. With "stock" as the third
// argument, the same for @open-policy-agent/opa-wasm as its users run it, on the bundle's module and
// data already unpacked beside it (policy.wasm, data.json, entrypoint): import, read the files,
// loadPolicy + setData, first evaluate.
// usage: node cold-start.mjs <bundle> <input.json> [stock]
import { readFile } from "node:fs/promises";

const [bundlePath, inputPath, mode] = process.argv.slice(2);
const input = JSON.parse(await readFile(inputPath, "utf8"));
const t0 = performance.now();
if (mode === "stock") {
  const { loadPolicy } = await import("@open-policy-agent/opa-wasm");
  const t1 = performance.now();
  const [wasm, data, entrypoint] = await Promise.all(["policy.wasm", "data.json", "entrypoint"].map((name) => readFile(`${bundlePath}/${name}`)));
  const policy = await loadPolicy(wasm);
  policy.setData(JSON.parse(data.toString("utf8")));
  const t2 = performance.now();
  policy.evaluate(input, entrypoint.toString("utf8"));
  const t3 = performance.now();
  print(t0, t1, t2, t3);
} else {
  const { Stepup } = await import("../../dist/index.js");
  const t1 = performance.now();
  const stepup = await Stepup.load(bundlePath);
  const t2 = performance.now();
  const decision = stepup.decide(input);
  const t3 = performance.now();
  if (decision.error) throw new Error(`the first decision failed closed: ${decision.error.message}`);
  print(t0, t1, t2, t3);
}

function print(t0, t1, t2, t3) {
  process.stdout.write(`${JSON.stringify({ import: t1 - t0, load: t2 - t1, first: t3 - t2, total: t3 - t0 })}\n`);
}
