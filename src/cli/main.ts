#!/usr/bin/env node
/** The `stepup` command: parses arguments, calls the SDK, formats what it returns. */
import { Command } from "commander";
import type { Decision } from "../contracts/decision.js";
import { explain } from "../decision/explain.js";
import { parseInput, parseInputText } from "../input/validate.js";
import { toIssues } from "../contracts/issues.js";
import { jsonSchemas } from "../contracts/json-schema.js";
import { defaultBundlePath, packageRoot } from "../paths.js";
import { loadScenarios, mismatches } from "../scenarios/catalog.js";
import { openDecider, type DeciderOptions } from "./decider.js";
import { registerBundleCommands } from "./bundle.js";
import { registerAuditCommands } from "./audit.js";
import { registerEnvoyCommands } from "./envoy.js";
import { registerEvaluateCommands } from "./evaluate.js";
import { registerBatchCommand } from "./batch.js";
import { registerRolloutCommands } from "./rollout.js";
import { InputInvalidError, UsageError } from "../errors.js";
import { ScenarioSchema } from "../contracts/scenario.js";
import { loadBundle } from "../bundle/load.js";
import { EXIT, readText, report } from "./io.js";
import { jsonOutput, print, quietOnClosedPipe, setJsonOutput } from "./output.js";
import { readFileSync } from "node:fs";

quietOnClosedPipe();

const program = new Command("stepup")
  .description("Step-up authentication decisions as code")
  .showHelpAfterError()
  // commander's own errors (an unknown command, a bad option) carry stepup's usage code too.
  .configureOutput({ outputError: (text, write) => write(`stepup: ERR_USAGE: ${text.replace(/^error: /, "")}`) })
  .exitOverride()
  .option("--json", "print results as JSON (every command)")
  .option("-V, --version", "print the package version and the default bundle's revision");
program.hook("preAction", (_program, action) => setJsonOutput(action.optsWithGlobals().json === true));

const bundleOption = ["-b, --bundle <path>", "bundle (.tar.gz or folder)"] as const;
const sidecarOption = ["-s, --sidecar <url>", "decide through an OPA sidecar serving the bundle (e.g. http://127.0.0.1:8181)"] as const;
const timeoutOption = ["--timeout <ms>", "the sidecar's deadline per decision, retries included (default 200)"] as const;

/** `eval` and `explain`: one decision on one input, printed one way or the other. */
for (const [name, description, format] of [
  ["eval", "decide on an input document and print the decision as JSON", (d: Decision) => JSON.stringify(d, null, 2)],
  ["explain", "decide on an input document and explain the decision", explain],
] as const) {
  program
    .command(name)
    .description(description)
    .argument("<input>", "input JSON file (or a scenario file: its input), or - for stdin")
    .option(...bundleOption)
    .option(...sidecarOption)
    .option(...timeoutOption)
    .action(async (file: string, opts: DeciderOptions) => {
      const decision = await decideFile(file, opts);
      process.stdout.write(`${jsonOutput() ? JSON.stringify(decision, null, 2) : format(decision)}\n`);
      process.exitCode = decision.error ? EXIT.failed : EXIT.ok;
    });
}

program
  .command("scenarios")
  .description("run the scenario catalogue and check each decision against its expectation")
  .argument("[dir]", "scenario folder", `${packageRoot()}scenarios`)
  .option(...bundleOption)
  .option(...sidecarOption)
  .option(...timeoutOption)
  .option("--explain", "explain every decision")
  .action(async (dir: string, opts: DeciderOptions & { explain?: boolean }) => {
    const scenarios = await loadScenarios(dir);
    const stepup = await openDecider(opts);
    let failed = 0;
    const results = [];
    for (const scenario of scenarios) {
      const decision = await stepup.decide(scenario.input);
      const problems = mismatches(scenario, decision);
      if (problems.length > 0) failed++;
      results.push({ name: scenario.name, title: scenario.title, as_expected: problems.length === 0, mismatches: problems, ...(opts.explain ? { decision } : {}) });
      if (jsonOutput()) continue;
      const mark = problems.length > 0 ? `MISMATCH (${problems.join("; ")})` : "as expected";
      process.stdout.write(`\n■ ${scenario.name}: ${scenario.title} — ${mark}\n`);
      if (opts.explain) process.stdout.write(`${explain(decision)}\n`);
    }
    const counts = `${scenarios.length - failed}/${scenarios.length} scenarios as expected`;
    print({ revision: stepup.revision, total: scenarios.length, as_expected: scenarios.length - failed, scenarios: results }, () => `\n${counts} (bundle revision ${stepup.revision})\n`);
    stepup.close();
    process.exitCode = failed > 0 ? EXIT.failed : EXIT.ok;
  });

program
  .command("schema")
  .description("print a JSON Schema of a contract")
  .argument("<contract>", "input, verdict, decision or decision-log")
  .action((name: string) => {
    const schemas = jsonSchemas();
    const schema = schemas[name as keyof typeof schemas];
    if (!schema) throw new UsageError(`no contract ${name}; choose one of ${Object.keys(schemas).join(", ")}`);
    process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  });

registerBatchCommand(program);
registerAuditCommands(program, registerBundleCommands(program));
registerEnvoyCommands(program);
registerEvaluateCommands(program);
registerRolloutCommands(program);


/** `stepup --version`: the package's version, and the revision of the bundle used when none is named. */
async function printVersion(): Promise<void> {
  const { version } = JSON.parse(readFileSync(`${packageRoot()}package.json`, "utf8")) as { version: string };
  const path = defaultBundlePath();
  const bundle = await loadBundle(path).then(
    (b) => ({ path, revision: b.revision, policy_version: b.metadata.policy_version }),
    (err: { code?: string; message?: string }) => ({ path, error: err.code ?? String(err.message) }),
  );
  if (jsonOutput()) process.stdout.write(`${JSON.stringify({ version, bundle })}\n`);
  else if ("error" in bundle) process.stdout.write(`stepup ${version}\nbundle: none usable at ${path} (${bundle.error})\n`);
  else process.stdout.write(`stepup ${version}\nbundle revision ${bundle.revision} (policy ${bundle.policy_version}) at ${path}\n`);
}

/**
 * An input document, or a scenario file's input: a document with a scenario's `name`, `input`
 * and `expect` is read as a scenario, its errors named under `input.`.
 */
function inputOf(text: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return parseInputText(text); // the same InputNotJsonError as any input
  }
  const looksLikeScenario = typeof raw === "object" && raw !== null && ["name", "input", "expect"].every((key) => Object.hasOwn(raw as object, key));
  if (!looksLikeScenario) return parseInput(raw);
  const scenario = ScenarioSchema.safeParse(raw);
  if (!scenario.success) throw new InputInvalidError(toIssues(scenario.error));
  return scenario.data.input;
}

async function decideFile(file: string, opts: DeciderOptions) {
  const input = inputOf(await readText(file));
  const decider = await openDecider(opts);
  try {
    return await decider.decide(input);
  } finally {
    decider.close();
  }
}

try {
  const args = process.argv.slice(2);
  if (args.some((a) => a === "--version" || a === "-V") && args.every((a) => a.startsWith("-"))) {
    setJsonOutput(args.includes("--json"));
    await printVersion();
  } else await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") process.exitCode = EXIT.ok;
  else if (code?.startsWith("commander.")) process.exitCode = EXIT.usage;
  else process.exitCode = report(err);
}
