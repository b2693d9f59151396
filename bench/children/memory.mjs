// Decides the corpus in turn, again and again, in a fresh process (dist/, as users run it), and
// reports the process's RSS and the policy's wasm memory after each checkpoint, each read after a
// full garbage collection. Prints one JSON line per checkpoint.
// usage: node --expose-gc memory.mjs <bundle> <corpus.json> <count>...
import { readFile } from "node:fs/promises";
import { loadBundle, Stepup, WasmEngine } from "../../dist/index.js";

const [bundlePath, corpusPath, ...counts] = process.argv.slice(2);
const corpus = JSON.parse(await readFile(corpusPath, "utf8"));
const bundle = await loadBundle(bundlePath);
const engine = await WasmEngine.load(bundle);
let failures = 0;
const stepup = new Stepup(bundle, engine, { onError: () => failures++ });
let done = 0;
const start = performance.now();
for (const target of counts.map(Number)) {
  done = decide(done, target);
  globalThis.gc();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  const line = { decisions: done, rss, heap_used: heapUsed, heap_total: heapTotal, external, wasm_memory: engine.memoryBytes, seconds: (performance.now() - start) / 1000, failures };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

// The loop in a function of its own, as a service's request handler is: at the top level of the
// module, V8 compiled the whole module body again (on-stack replacement) each time the loop was
// re-entered after a checkpoint, and the compiler's memory showed as RSS steps of this harness.
function decide(from, to) {
  let i = from;
  for (; i < to; i++) stepup.decide(corpus[i % corpus.length]);
  return i;
}
