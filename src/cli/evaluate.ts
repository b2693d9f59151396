/**
 * `stepup evaluate`: replay a labelled stream through the SDK and report prompts of legitimate
 * users and catches of attacks, for the bundle and any candidates side by side; and
 * `stepup generate-stream`: write the project's deterministic labelled stream.
 */
import { writeFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import { loadBundle } from "../bundle/load.js";
import { evaluate, type Candidate } from "../evaluation/evaluate.js";
import { generateStream } from "../evaluation/generate.js";
import { markdownOf, reportOf } from "../evaluation/report.js";
import { formatStream, parseStream } from "../evaluation/stream.js";
import { withSettings } from "../evaluation/tuning.js";
import { defaultBundlePath } from "../paths.js";
import { Stepup } from "../stepup.js";
import { readText } from "./io.js";
import { jsonOutput, print } from "./output.js";
import { startProgress } from "./progress.js";

interface EvaluateFlags {
  bundle?: string;
  against?: string[];
  set?: string[];
  json?: boolean;
  out?: string;
}

export function registerEvaluateCommands(program: Command): void {
  program
    .command("evaluate")
    .description("replay a labelled stream of logins through the SDK: legitimate users prompted, attacks caught")
    .argument("<stream>", "labelled NDJSON stream (from `stepup generate-stream` or your own incident data), or - for stdin")
    .option("-b, --bundle <path>", "bundle (.tar.gz or folder)")
    .option("--against <bundle>", "also evaluate another bundle, side by side (repeatable)", collect, [])
    .option("--set <path=value>", "also evaluate the bundle with a setting of its config changed, e.g. weights.device.unattested=25 (repeatable; all at once)", collect, [])
    .option("--json", "the report as JSON")
    .option("--out <file>", "also write the Markdown report to a file")
    .action(async (file: string, opts: EvaluateFlags) => {
      const lines = parseStream(await readText(file));
      const bundle = await loadBundle(opts.bundle ?? defaultBundlePath());
      const candidates: Candidate[] = [{ name: "bundle", stepup: await Stepup.create(bundle, { onError: () => {} }) }];
      if (opts.set && opts.set.length > 0) candidates.push({ name: "tuned", stepup: await Stepup.create(withSettings(bundle, opts.set), { onError: () => {} }) });
      for (const path of opts.against ?? []) candidates.push({ name: path, stepup: await Stepup.create(await loadBundle(path), { onError: () => {} }) });
      const progress = startProgress({ label: "evaluating", total: lines.length, unit: "events" });
      const report = reportOf(await evaluate(lines, candidates, { onProgress: (done) => progress.update(done) }));
      progress.stop();
      const markdown = markdownOf(report);
      if (opts.out) await writeFile(opts.out, markdown);
      process.stdout.write(jsonOutput() ? `${JSON.stringify(report, null, 2)}\n` : markdown);
    });

  program
    .command("generate-stream")
    .description("write the project's deterministic labelled stream of logins and attacks (docs/evaluation.md)")
    .option("--seed <n>", "seed of every draw", (v) => whole(v, "--seed"), 1)
    .option("--employees <n>", "people in the organisation", (v) => whole(v, "--employees"), 1_500)
    .option("--days <n>", "days covered", (v) => whole(v, "--days"), 42)
    .option("--attacks <n>", "attacks over the period", (v) => whole(v, "--attacks"), 3_000)
    .option("--out <file>", "write to a file instead of stdout")
    .action(async (opts: { seed: number; employees: number; days: number; attacks: number; out?: string }) => {
      const text = formatStream(generateStream(opts));
      if (!opts.out) return void process.stdout.write(text);
      await writeFile(opts.out, text);
      const events = text.split("\n").filter(Boolean).length;
      print({ out: opts.out, events, seed: opts.seed }, () => `wrote ${events} events to ${opts.out} (seed ${opts.seed})\n`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function whole(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${option} takes a whole number`);
  return n;
}
