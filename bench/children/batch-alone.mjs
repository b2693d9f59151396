// One thread's batch work in a process of its own (dist/, as users run it): the same per-line work
// as the batch suite's single thread — parse, decide, serialize — repeated over the lines for a
// fixed window. Prints "ready" once warm, then runs one window per "go" line on stdin, so that
// several processes can be started in step, and prints each window's decisions as a JSON line.
// usage: node batch-alone.mjs <bundle> <lines.ndjson> <window ms>
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Stepup } from "../../dist/index.js";

const [bundlePath, linesPath, windowMs] = process.argv.slice(2);
const lines = (await readFile(linesPath, "utf8")).split("\n").filter((line) => line !== "");
let failures = 0;
const stepup = await Stepup.load(bundlePath, { onError: () => failures++ });
// Warm-up: the JIT and the engine, as the suite's own first pass does.
for (let i = 0; i < 3 * lines.length; i++) stepup.decide(JSON.parse(lines[i % lines.length]));
process.stdout.write("ready\n");

// Chunks of 128 lines (the pool's batch) until the window closes: each chunk is parsed, decided
// and serialized into NDJSON bytes, as a pool thread does with its batch.
const encoder = new TextEncoder();
const window = () => {
  const start = performance.now();
  const end = start + Number(windowMs);
  let decisions = 0;
  while (performance.now() < end) {
    const out = [];
    for (let k = 0; k < 128; k++) out.push(JSON.stringify(stepup.decide(JSON.parse(lines[(decisions + k) % lines.length]))));
    encoder.encode(out.join("\n"));
    decisions += 128;
  }
  return { decisions, ms: performance.now() - start, failures };
};

// One window per "go" line; the process ends with its stdin.
for await (const command of createInterface({ input: process.stdin })) {
  if (command === "go") process.stdout.write(`${JSON.stringify(window())}\n`);
}
