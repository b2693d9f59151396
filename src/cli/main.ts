#!/usr/bin/env node
/** The `stepup` command: parses arguments, calls the SDK, formats what it returns. */
import { Command } from "commander";
import type { Decision } from "../contracts/decision.js";
import { explain } from "../decision/explain.js";
import { parseInputText } from "../input/validate.js";
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
import { UsageError } from "../errors.js";
import { EXIT, readText, report } from "./io.js";

const program = new Command("stepup")
  .description("Step-up authentication decisions as code")
  .showHelpAfterError()
  // commander's own errors (an unknown command, a bad option) carry stepup's usage code too.
  .configureOutput({ outputError: (text, write) => write(`stepup: ERR_USAGE: ${text.replace(/^error: /, "")}`) })
  .exitOverride();

const bundleOption = ["-b, --bundle <path>", "bundle (.tar.gz or folder)"] as const;
const sidecarOption = ["-s, --sidecar <url>", "decide through an OPA sidecar serving the bundle (e.g. http://127.0.0.1:8181)"] as const;
const timeoutOption = ["--timeout <ms>", "the sidecar's deadline per decision, retries included (default 200)"] as const;

/** `eval` and `explain`: one decision on one input, printed one way or the other. */
for (const [name, description, print] of [
  ["eval", "decide on an input document and print the decision as JSON", (d: Decision) => JSON.stringify(d, null, 2)],
  ["explain", "decide on an input document and explain the decision", explain],
] as const) {
  program
    .command(name)
    .description(description)
    .argument("<input>", "input JSON file, or - for stdin")
    .option(...bundleOption)
    .option(...sidecarOption)
    .option(...timeoutOption)
    .action(async (file: string, opts: DeciderOptions) => {
      const decision = await decideFile(file, opts);
      process.stdout.write(`${print(decision)}\n`);
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
    for (const scenario of scenarios) {
      const decision = await stepup.decide(scenario.input);
      const problems = mismatches(scenario, decision);
      if (problems.length > 0) failed++;
      const mark = problems.length > 0 ? `MISMATCH (${problems.join("; ")})` : "as expected";
      process.stdout.write(`\n■ ${scenario.name}: ${scenario.title} — ${mark}\n`);
      if (opts.explain) process.stdout.write(`${explain(decision)}\n`);
    }
    const counts = `${scenarios.length - failed}/${scenarios.length} scenarios as expected`;
    process.stdout.write(`\n${counts} (bundle revision ${stepup.revision})\n`);
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


async function decideFile(file: string, opts: DeciderOptions) {
  const input = parseInputText(await readText(file));
  const decider = await openDecider(opts);
  try {
    return await decider.decide(input);
  } finally {
    decider.close();
  }
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") process.exitCode = EXIT.ok;
  else if (code?.startsWith("commander.")) process.exitCode = EXIT.usage;
  else process.exitCode = report(err);
}
