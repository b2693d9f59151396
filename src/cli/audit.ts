/**
 * The audit commands: `replay` (verify logged decisions on their own revisions, or what-if on a
 * candidate), `review` (exception uses since a time) and `bundle store` (keep bundles by
 * revision). Parsing and formatting only; the work is in src/audit and src/bundle.
 */
import { Command, InvalidArgumentError } from "commander";
import { loadBundle, type Bundle } from "../bundle/load.js";
import { BundleStore } from "../fleet/store.js";
import { readLogEvents } from "../audit/read-log.js";
import { RevisionIndex } from "../audit/replay.js";
import { THREADS_FROM_BYTES, verifyLogs, whatIfLogs } from "../audit/replay-pool.js";
import { review, type ReviewCandidate } from "../audit/review-report.js";
import { reviewHtml } from "../audit/review-html.js";
import { WasmEngine } from "../engine/inprocess/wasm.js";
import { cacheDir, defaultBundlePath, packageRoot } from "../paths.js";
import { writeFile } from "node:fs/promises";
import { formatReviewReport, formatVerify, formatWhatIf } from "./audit-format.js";
import { join } from "node:path";
import { EXIT, boundThreads, readText } from "./io.js";
import { jsonOutput, print } from "./output.js";
import { compileMask } from "../audit/mask.js";
import { EdgeMapper } from "../audit/edge-replay.js";
import { loadEnvoySettings } from "../enforcement/envoy/settings.js";
import { checkMask, describeRead, policyReads } from "../audit/policy-reads.js";
import type { MaskRule } from "../contracts/decision-log.js";

/** The bundle store the CLI uses when none is named: $STEPUP_BUNDLE_STORE, else `store` in the user's cache folder. */
export function defaultStorePath(): string {
  return process.env.STEPUP_BUNDLE_STORE ?? join(cacheDir(), "store");
}

export function registerAuditCommands(program: Command, bundle: Command): void {
  program
    .command("replay")
    .description("re-evaluate logged decisions on the revision each names, or what-if on a candidate bundle")
    .argument("<logs...>", "decision logs (NDJSON, .gz, folders; - for stdin)")
    .option("--store <dir>", "bundle store holding past revisions", defaultStorePath())
    .option("-b, --bundle <paths...>", "bundles to use besides the store, by their revision")
    .option("--against <bundle>", "candidate bundle: report what it would change")
    .option("--examples <n>", "changed decisions to list", toCount, 10)
    .option("--threads <n>", `threads replaying (default: one per core for logs of ${THREADS_FROM_BYTES / 1024 ** 2} MiB or more, else 1: the main thread alone; at most one per core)`, toPositive)
    .option("--envoy-settings <file>", "the edge settings opa-envoy-plugin decided with (data.stepup_envoy), to replay its decisions")
    .option("--json", "print the report as JSON")
    .action(async (logs: string[], opts: { store: string; bundle?: string[]; against?: string; examples: number; threads?: number; json?: boolean; envoySettings?: string }) => {
      const edge = opts.envoySettings ? await EdgeMapper.create(await loadEnvoySettings(opts.envoySettings)) : undefined;
      const options = { examples: opts.examples, threads: boundThreads(opts.threads, "--threads"), edge };
      if (opts.against) {
        const candidate = await loadBundle(opts.against);
        const report = await whatIfLogs(logs, candidate, options);
        process.stdout.write(jsonOutput() ? `${JSON.stringify(report, null, 2)}\n` : formatWhatIf(report));
        process.exitCode = EXIT.ok;
        return;
      }
      const extra = new Map<string, Bundle>();
      for (const path of opts.bundle ?? []) {
        const b = await loadBundle(path);
        extra.set(b.revision, b);
      }
      const store = new BundleStore(opts.store);
      const report = await verifyLogs(logs, new RevisionIndex(extra, store, store.dir), options);
      process.stdout.write(jsonOutput() ? `${JSON.stringify(report, null, 2)}\n` : formatVerify(report));
      process.exitCode = report.reproduced === report.events && report.events > 0 ? EXIT.ok : EXIT.failed;
    });

  program
    .command("review")
    .description("review a window of decision logs (outcomes, rates, prompts, exceptions), or a what-if or report-only comparison")
    .argument("<logs...>", "decision logs (NDJSON, .gz, folders; - for stdin)")
    .option("--since <when>", "start of the window: ISO date or time, or a duration back from now (30m, 24h, 7d, 2w)", toTime)
    .option("--until <when>", "end of the window (default: the last event)", toTime)
    .option("--against <bundle>", "what-if: evaluate the logged inputs on this candidate bundle (otherwise the logs' own shadow outcomes, if any)")
    .option("--top <n>", "rows kept in the app, signal, subject tables", toPositive, 20)
    .option("--json", "print the review as JSON")
    .option("--html <file>", "also write the review as one self-contained HTML page")
    .action(async (logs: string[], opts: { since?: number; until?: number; against?: string; top: number; json?: boolean; html?: string }) => {
      let candidate: ReviewCandidate | undefined;
      if (opts.against) {
        const bundle = await loadBundle(opts.against);
        candidate = { revision: bundle.revision, engine: await WasmEngine.load(bundle), reads: policyReads(bundle.files) };
      }
      const report = await review(readLogEvents(logs), { since: opts.since, until: opts.until, candidate, top: opts.top });
      if (opts.html) await writeFile(opts.html, reviewHtml(report));
      if (jsonOutput()) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(formatReviewReport(report) + (opts.html ? `\nreview page written to ${opts.html}\n` : ""));
      process.exitCode = EXIT.ok;
    });

  program
    .command("mask")
    .description("decision-log masks")
    .command("check")
    .description("warn for each mask rule that hides a field the policy reads (decisions masked there cannot be replayed)")
    .argument("<rules>", "JSON file: an array of mask rules, as the logger's `mask` option takes them")
    .option("-b, --bundle <path>", "bundle whose policy the rules are checked against")
    .action(async (file: string, opts: { bundle?: string }) => {
      const rules = JSON.parse(await readText(file)) as MaskRule[];
      compileMask(Array.isArray(rules) ? rules : [rules as never]);
      const policy = await loadBundle(opts.bundle ?? defaultBundlePath());
      const findings = checkMask(rules, policyReads(policy.files));
      for (const f of jsonOutput() ? [] : findings) {
        const where = [...new Set(f.reads.map((r) => `${describeRead(r)} (${r.file})`))].join(", ");
        process.stderr.write(`warning: mask[${f.index}] ${f.path} hides what the policy reads: ${where}\n`);
      }
      const found = findings.map((f) => ({ index: f.index, path: f.path, reads: [...new Set(f.reads.map((r) => `${describeRead(r)} (${r.file})`))] }));
      print({ revision: policy.revision, rules: rules.length, hiding: found }, () =>
        findings.length === 0
          ? `${rules.length} mask rules checked against revision ${policy.revision}: none hides a field the policy reads\n`
          : `${findings.length} of ${rules.length} mask rules hide fields the policy reads (revision ${policy.revision}): decisions logged with them cannot be replayed\n`,
      );
      process.exitCode = findings.length === 0 ? EXIT.ok : EXIT.failed;
    });

  const store = bundle.command("store").description("keep bundles by revision, for replay");
  store
    .command("add")
    .description("store a bundle under its revision")
    .argument("<bundle>", "bundle (.tar.gz or folder)")
    .option("--store <dir>", "bundle store", defaultStorePath())
    .action(async (path: string, opts: { store: string }) => {
      const revision = await new BundleStore(opts.store).put(path);
      print({ revision, store: opts.store }, () => `stored revision ${revision} in ${opts.store}\n`);
    });
  store
    .command("list")
    .description("list the revisions held")
    .option("--store <dir>", "bundle store", defaultStorePath())
    .action(async (opts: { store: string }) => {
      const revisions = await new BundleStore(opts.store).list();
      print({ store: opts.store, revisions }, () => revisions.map((r) => `${r}\n`).join(""));
    });
}

function toPositive(value: string): number {
  const n = toCount(value);
  if (n < 1) throw new InvalidArgumentError("expected at least 1");
  return n;
}

function toCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** An ISO date or date-time, or a duration back from now such as 24h or 7d; as epoch ms. */
export function toTime(value: string, now = Date.now()): number {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2] as string] as number);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return at;
  }
  throw new InvalidArgumentError("expected an ISO date or time (2025-01-31, 2025-01-31T08:00:00Z) or a duration (30m, 24h, 7d, 2w)");
}
