// Decides the corpus in turn, again and again, in a fresh process (dist/, as users run it), and
// reports the process's memory at each checkpoint: RSS, V8's heap (in use, reserved, and its young
// generation's share) and the policy's wasm memory. Prints one JSON line per checkpoint.
// usage: node --expose-gc memory.mjs [--leak] <bundle> <corpus.json> <count>...
// --leak keeps every decision alive, a stand-in leak for the test that these readings catch one
// ($STEPUP_LIB names another build of the library than dist/; the engine class comes from its
// internal entry point beside it).
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";

const lib = process.env.STEPUP_LIB ? pathToFileURL(process.env.STEPUP_LIB.replace(/index\.js$/, "internal.js")).href : "../../dist/internal.js";
const { loadBundle, Stepup, WasmEngine } = await import(lib);
const args = process.argv.slice(2);
const leaked = args[0] === "--leak" ? [] : undefined;
const [bundlePath, corpusPath, ...counts] = leaked ? args.slice(1) : args;
const corpus = JSON.parse(await readFile(corpusPath, "utf8"));
const bundle = await loadBundle(bundlePath);
const engine = await WasmEngine.load(bundle);
let failures = 0;
const stepup = new Stepup(bundle, engine, { onError: () => failures++ });
let done = 0;
let seconds = 0;
for (const target of counts.map(Number)) {
  const start = performance.now();
  done = decide(done, target);
  seconds += (performance.now() - start) / 1000;
  await settle();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
  const line = { decisions: done, rss, heap_used: heapUsed, heap_total: heapTotal, young_generation: young, external, wasm_memory: engine.memoryBytes, seconds, failures };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

// The loop in a function of its own, as a service's request handler is: at the top level of the
// module, V8 compiled the whole module body again (on-stack replacement) each time the loop was
// re-entered after a checkpoint, and the compiler's memory showed as RSS steps of this harness.
function decide(from, to) {
  let i = from;
  if (leaked) for (; i < to; i++) leaked.push(stepup.decide(corpus[i % corpus.length]));
  else for (; i < to; i++) stepup.decide(corpus[i % corpus.length]);
  return i;
}

// What the process holds, not where its garbage happened to be. A full collection that compacts
// every page (by default V8 compacts only the pages it finds most fragmented, so the old space kept
// 4–17 MiB of free pages depending on how much had been promoted since the last one), then a
// second of idle: V8 sweeps and unmaps the freed pages on background threads, and RSS read at
// once caught them half done (108–128 MiB for the same heap; 108.2–108.4 after the pause).
async function settle() {
  v8.setFlagsFromString("--compact-on-every-full-gc");
  globalThis.gc();
  v8.setFlagsFromString("--no-compact-on-every-full-gc");
  await sleep(1000);
}
