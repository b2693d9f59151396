// One thread's batch work in a process of its own (dist/, as users run it): the same per-line work
// as the batch suite's single thread (`decideLines`) repeated over the lines for a fixed window.
// Prints "ready" once warm, then runs one window per "go" line on stdin, so that several
// processes can be started in step, and prints each window's decisions as a JSON line.
// usage: node batch-alone.mjs <bundle> <lines.ndjson> <window ms>
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Stepup } from "../../dist/index.js";

const [bundlePath, linesPath, windowMs] = process.argv.slice(2);
const bytes = await readFile(linesPath);
let failures = 0;
const stepup = await Stepup.load(bundlePath, { onError: () => failures++ });
// Chunks of 128 lines (the pool's batch), cut at line ends.
const chunks = [];
for (let start = 0, lines = 0, end = 0; end < bytes.length; ) {
  end = bytes.indexOf(0x0a, end) + 1 || bytes.length;
  if (++lines === 128 || end === bytes.length) {
    chunks.push({ bytes: bytes.subarray(start, end), lines });
    [start, lines] = [end, 0];
  }
}
// Each chunk's answers go into the memory of the last chunk's, as the suite's own calls do.
let answers;
// Warm-up: the JIT and the engine, as the suite's own first pass does.
for (let i = 0; i < 3; i++) for (const chunk of chunks) answers = stepup.decideLines(chunk.bytes, { into: answers });
process.stdout.write("ready\n");

// Chunks until the window closes, each decided with `decideLines` as the suite's single thread
// decides its lines.
const window = () => {
  const start = performance.now();
  const end = start + Number(windowMs);
  let decisions = 0;
  for (let i = 0; performance.now() < end; i++) {
    const chunk = chunks[i % chunks.length];
    answers = stepup.decideLines(chunk.bytes, { into: answers });
    decisions += chunk.lines;
  }
  return { decisions, ms: performance.now() - start, failures };
};

// One window per "go" line; the process ends with its stdin.
for await (const command of createInterface({ input: process.stdin })) {
  if (command === "go") process.stdout.write(`${JSON.stringify(window())}\n`);
}
