// A process deciding and logging at full speed, for the durable-sink and crash tests: it loads the
// library built for the test run, decides the inputs given in a loop with decision ids of its own
// (`<prefix>-<n>`), logs each through a decision logger with the sink described, and reports on
// stdout as JSON lines: {"ready":…} once logging, {"done":…} with the sink's figures at the end.
// Arguments: the library's path, the bundle's path, a JSON file with the settings.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [libPath, bundlePath, settingsPath] = process.argv.slice(2);
const settings = JSON.parse(readFileSync(settingsPath, "utf8"));
const { DecisionLogger, FileSink, HttpSink, Stepup } = await import(pathToFileURL(libPath).href);

const sink = settings.sink === "file" ? new FileSink(settings.options) : new HttpSink(settings.options);
const logger = new DecisionLogger({ sinks: [sink], onReview: () => {} });
await sink.ready();
let n = 0;
const stepup = await Stepup.load(bundlePath, { onDecision: logger.onDecision, onError: () => {}, newId: () => `${settings.prefix}-${n++}` });
const inputs = settings.inputs;
const count = settings.count ?? Infinity;
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
const started = performance.now();
// Deciding in a loop that never yields: the sink's own thread must keep up without the event loop.
for (let i = 0; i < count; i++) stepup.decideInput(inputs[i % inputs.length]);
const decidedMs = performance.now() - started;
await logger.close();
process.stdout.write(`${JSON.stringify({ done: true, decided: n, decidedMs, closedMs: performance.now() - started, stats: sink.stats })}\n`);
