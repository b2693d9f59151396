/**
 * `make bench`: builds a bundle from rego/ (or from the policy folder in $BENCH_REGO, to measure
 * a variant of the policy through the same suites), runs every suite in bench/suites/ (or those
 * named on the command line) and writes bench/results/latest.json and latest.md (the named suites
 * alone go to bench/results/partial/; $BENCH_OUT names another folder, so that a smoke run leaves
 * the latest real figures alone).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildBundle } from "../src/bundle/build.js";
import { loadScenarios } from "../src/scenarios/catalog.js";
import type { BenchContext, Suite, SuiteResult } from "./harness.js";

const only = process.argv.slice(2);
const started = performance.now();
const dir = await mkdtemp(join(tmpdir(), "stepup-bench-"));
try {
  const bundlePath = join(dir, "stepup.tar.gz");
  const asBuiltBundlePath = join(dir, "stepup-as-built.tar.gz");
  const regoDir = process.env.BENCH_REGO ?? "rego";
  await buildBundle({ regoDir, out: bundlePath, revision: "bench" });
  await buildBundle({ regoDir, out: asBuiltBundlePath, revision: "bench", optimize: false });
  const ctx: BenchContext = {
    bundlePath,
    asBuiltBundlePath,
    corpus: (await loadScenarios("scenarios")).map((s) => s.input),
    quick: process.env.BENCH_QUICK === "1",
  };
  // The in-process suite first, the others by name: its ratios are the ones most sensitive to a
  // busy host, and suites before it left containers stopping and processes exiting (its floor
  // measured ~20 % slower in full runs than alone, and so did the runtime's empty policy).
  const files = (await readdir("bench/suites"))
    .filter((f) => f.endsWith(".ts"))
    .sort((a, b) => Number(b === "inprocess.ts") - Number(a === "inprocess.ts") || (a < b ? -1 : 1));
  const results: (SuiteResult & { seconds: number })[] = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(join(process.cwd(), "bench/suites", file)).href)).default as Suite;
    if (only.length > 0 && !only.includes(suite.name)) continue;
    process.stderr.write(`bench: ${suite.name}…\n`);
    const suiteStarted = performance.now();
    const result = await suite.run(ctx);
    results.push({ ...result, seconds: Math.round((performance.now() - suiteStarted) / 1000) });
  }
  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    corpus: `${ctx.corpus.length} scenario inputs`,
    duration_s: Math.round((performance.now() - started) / 1000),
  };
  // A run of named suites writes beside the full run's table, not over it: the full table shows
  // every suite from one run.
  const out = process.env.BENCH_OUT ?? (only.length > 0 ? "bench/results/partial" : "bench/results");
  await mkdir(out, { recursive: true });
  for (const r of results) for (const [name, text] of Object.entries(r.files ?? {})) await writeFile(join(out, name), text);
  const table = results.map(({ files, ...r }) => ({ ...r, ...(files && { files: Object.keys(files) }) }));
  await writeFile(join(out, "latest.json"), `${JSON.stringify({ machine, results: table }, null, 2)}\n`);
  const md = toMarkdown(machine, results);
  await writeFile(join(out, "latest.md"), md);
  process.stdout.write(md);
  process.stderr.write(`bench: tables written to ${join(out, "latest.md")} and latest.json\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

function toMarkdown(machine: Record<string, string | number>, results: (SuiteResult & { seconds: number })[]): string {
  const lines = [
    `Measured ${machine.date} on ${machine.cpu} (${machine.cores} cores, ${machine.memory_gib} GiB), Node ${machine.node}; corpus: ${machine.corpus}; the whole run took ${machine.duration_s} s.`,
    "",
  ];
  for (const r of results) {
    lines.push(`### ${r.suite} (${r.seconds} s)`, "");
    if (r.measurements.length > 0) {
      lines.push("| measurement | median µs | p99 µs | ops/s | samples |", "| --- | ---: | ---: | ---: | ---: |");
      for (const m of r.measurements) {
        const ops = m.ops_per_s === undefined ? "" : Math.round(m.ops_per_s).toLocaleString("en");
        lines.push(`| ${m.name} | ${fmt(m.median_us)} | ${fmt(m.p99_us)} | ${ops} | ${m.samples} |`);
      }
      lines.push("");
    }
    if (r.ratios.length > 0) {
      lines.push("| ratio | value | target | met |", "| --- | ---: | --- | --- |");
      for (const q of r.ratios) lines.push(`| ${q.name} | ${q.value} | ${q.target ?? ""} | ${q.met === undefined ? "" : q.met ? "yes" : "no"} |`);
      lines.push("");
    }
    if (r.notes.length > 0) lines.push(...r.notes.map((note) => `- ${note}`), "");
    for (const name of Object.keys(r.files ?? {})) lines.push(`- written beside this table: \`${name}\``, "");
  }
  return `${lines.join("\n")}\n`;
}

function fmt(us: number): string {
  return us >= 100 ? Math.round(us).toLocaleString("en") : us.toFixed(2);
}
