// The SDK's main journeys through the package's entry point alone: `import("stepup")`, resolved
// by Node through the package's `exports` as an installed app resolves it. Prints one JSON line.
// usage: node entry-journeys.mjs <bundle> <scenarios.json> <log dir>
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const sdk = await import("stepup");
const [bundlePath, scenariosPath, logDir] = process.argv.slice(2);
const scenarios = JSON.parse(await readFile(scenariosPath, "utf8"));
const inputs = scenarios.map((s) => s.input);

// decide, with every decision logged to a file for the replay below.
const log = join(logDir, "decisions.ndjson");
const logger = new sdk.DecisionLogger({ sinks: [new sdk.FileSink({ path: log })] });
const stepup = await sdk.Stepup.load(bundlePath, { onDecision: logger.onDecision, onError: () => {} });
const decided = inputs.map((input) => stepup.decide(input).outcome);
let invalid = null;
try {
  stepup.decide({ ...inputs[0], now: "yesterday" });
} catch (err) {
  invalid = { isInputInvalid: err instanceof sdk.InputInvalidError, code: err.code, paths: err.issues.map((i) => i.path) };
}
await logger.close();

// the pool, on two threads.
const pool = await stepup.pool({ size: 2 });
const pooled = (await pool.decideMany(inputs)).map((d) => d.outcome);
await pool.close();

// a Guard: signals from a request, a decision, an HTTP answer.
const signals = await sdk.Signals.create({ geo: false, targets: { routes: [{ path: "/payroll/:id", app: "payroll" }] } });
const guard = new sdk.Guard(await sdk.Stepup.load(bundlePath), signals);
const guarded = await guard.check({ peer: "127.0.0.1", headers: {}, method: "GET", path: "/payroll/42", route: null });

// replay of the log on the revision that made it.
const bundle = await sdk.loadBundle(bundlePath);
const replay = await sdk.verifyLogs([log], new sdk.RevisionIndex(new Map([[bundle.revision, bundle]])));

const entry = { internal: ["OpaInstance", "WasmEngine", "conclude", "decodeCheckRequest"].filter((name) => name in sdk) };
process.stdout.write(
  `${JSON.stringify({
    decided,
    invalid,
    pooled,
    guard: { outcome: guarded.decision.outcome, proceed: guarded.answer.proceed, status: guarded.answer.status, subject: guarded.collected.input.subject.id },
    replay: { events: replay.events, reproduced: replay.reproduced, differed: replay.differed },
    entry,
  })}\n`,
);
