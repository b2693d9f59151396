/**
 * What auditing costs: a decision alone, with metrics, and with the decision logger (the documented
 * mask, the durable NDJSON file sink) — the logger's share is the synchronous work on the
 * decision path (the event, one line of masked JSON bytes written into the sink's queue); the spool and the
 * file are written by the sink's own thread. Every event of the run must reach the file: the
 * suite reports the sink's drops over the whole run (0 is the goal). And replay throughput: logged
 * decisions verified per second on their own revision, in-process on a short log, and by the
 * built CLI on a long one, in the main thread alone and on every core (whole runs, process start
 * and the threads' start included, as a user times them). And what a report-only candidate costs:
 * on the request's path (the enforced decision, the candidate queued) and in all (its deferred
 * evaluation included), against the same decisions without one.
 */
import { execFile } from "node:child_process";
import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { DecisionLogger } from "../../src/audit/logger.js";
import { StepupMetrics } from "../../src/audit/metrics.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { RevisionIndex, verify } from "../../src/audit/replay.js";
import { THREADS_FROM_BYTES } from "../../src/audit/replay-pool.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import type { MaskRule } from "../../src/contracts/decision-log.js";
import { bundleFromFiles } from "../../src/bundle/load.js";
import type { Input } from "../../src/contracts/input.js";
import { Stepup } from "../../src/stepup.js";
import { sampleInputs } from "../../test/support/arbitraries.js";
import { withRevision } from "../../test/support/bundles.js";
import { cycle, measure, pairedSpeedup, perItem, ratio, type Suite } from "../harness.js";

/** The documented mask (docs/audit.md): only what the policy does not read. */
const MASK: MaskRule[] = [{ op: "truncate_ip", path: "/input/network/ip" }, "/input/target/resource", "/input/device/id"];

const suite: Suite = {
  name: "audit",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-audit-"));
    try {
      const plain = await Stepup.load(ctx.bundlePath);
      const metrics = new StepupMetrics();
      const measured = await Stepup.load(ctx.bundlePath, { onDecision: metrics.observe });
      const sink = new FileSink({ path: join(dir, "decisions.ndjson"), maxBytes: 256 * 1024 * 1024, maxFiles: 2, spoolDir: join(dir, "spool") });
      // Review records go to a listener that counts them, as a service hands them to its own
      // pipeline: the default writes each as a line on stderr, thousands over a run.
      let reviews = 0;
      const logger = new DecisionLogger({ sinks: [sink], mask: MASK, metrics, onReview: () => reviews++ });
      await sink.ready();
      let logged_ = 0;
      const logged = await Stepup.load(ctx.bundlePath, {
        onDecision: (e) => {
          metrics.observe(e);
          logger.onDecision(e);
          logged_++;
        },
      });
      const [a, b, c] = [cycle(ctx.corpus), cycle(ctx.corpus), cycle(ctx.corpus)];
      const results = await measure(
        {
          "decideInput, no audit": () => plain.decideInput(a()),
          "decideInput + metrics": () => measured.decideInput(b()),
          "decideInput + metrics + durable decision log (mask, file sink)": () => logged.decideInput(c()),
        },
        ctx,
      );
      await logger.close();
      const { dropped, appended, delivered } = sink.stats;
      const drops = Object.values(dropped).reduce((n, c) => n + c, 0);
      const sinkDrops = Object.entries(dropped).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
      const [none, withMetrics, withLog] = results;
      if (!none || !withMetrics || !withLog) throw new Error("missing measurement");

      // Replay throughput: verifying a log of N decisions, measured as a whole, batch after batch.
      const n = 200;
      const replayLog = join(dir, "replay.ndjson");
      const replayLogger = new DecisionLogger({ sinks: [new FileSink({ path: replayLog, maxBytes: 1024 ** 3, spoolDir: join(dir, "replay-spool") })], onReview: () => {} });
      const source = await Stepup.load(ctx.bundlePath, { onDecision: replayLogger.onDecision });
      const next = cycle(ctx.corpus);
      for (let i = 0; i < n; i++) source.decideInput(next());
      await replayLogger.close();
      const revisions = new RevisionIndex(new Map([[plain.revision, plain.bundle]]));
      const [batch] = await measure(
        {
          [`replay verify, a log of ${n} decisions (read, validate, evaluate, compare)`]: async () => {
            const report = await verify(readLogEvents([replayLog]), revisions);
            if (report.reproduced !== n) throw new Error(`replay reproduced ${report.reproduced} of ${n}`);
          },
        },
        ctx,
      );
      if (!batch) throw new Error("missing measurement");
      const replay = { ...batch, ops_per_s: n / (batch.median_us / 1e6) };
      const long = await replayLong(ctx.bundlePath, dir, ctx.quick);
      const shadow = await shadowCost(ctx.bundlePath, ctx.corpus, ctx.quick);

      return {
        suite: "audit",
        measurements: [none, withMetrics, withLog, replay, long.alone, long.threads, shadow.plain, shadow.path, shadow.whole],
        ratios: [
          ratio("decide + metrics / decide (median)", withMetrics.median_us / none.median_us),
          ratio("decide + metrics + durable log / decide (median)", withLog.median_us / none.median_us, { text: "≤ 1.5", met: (v) => v <= 1.5 }),
          ratio(`decision-log events dropped over the run (of ${logged_.toLocaleString("en-US")} logged)`, drops, { text: "= 0", met: (v) => v === 0 }),
          ratio(`replay on ${long.size} threads / the main thread alone (CLI, whole runs; median of rounds)`, long.speedup),
          ratio("with a candidate, the request's path / without (median of rounds)", shadow.pathRatio, { text: "≤ 1.2", met: (v) => v <= 1.2 }),
          ratio("with a candidate, all work (its evaluation included) / without (median of rounds)", shadow.wholeRatio),
        ],
        notes: [
          "The logger's cost on the decision path is building the event and writing it once as UTF-8, with the mask applied as it is written, straight into the sink's queue in shared memory (code compiled from the contracts and the mask, the bytes JSON.stringify would write for the masked event), all timed within each decision; the sink's thread appends to the spool and writes the file, on the same 2 cores.",
          `File sink over the whole run: ${logged_} events logged, ${appended} appended to the spool, ${delivered} written to the file; dropped: ${sinkDrops}. ${reviews} review records (decisions that used an exception) went to a listener that counts them.`,
          `Replay: ops/s is decisions verified per second (${n} per run over the median run).`,
          `Report-only candidate: batches of ${shadow.batch} decisions with metrics as the listener, ${shadow.rounds} rounds alternating; the request's path is the synchronous decisions (the candidate queued, the listener deferred with it), all work adds awaiting the candidate's evaluation of the batch (setImmediate slices).`,
          `Replay by the CLI: \`stepup replay\` from dist/ on a log of ${long.events} decisions (${long.mib} MiB), ${long.rounds} rounds alternating \`--threads 1\` and \`--threads ${long.size}\`; µs per decision is the whole run's time over the decisions; the ratio is the median of each round's pair. Below ${long.fromMib} MiB the CLI's default is the main thread alone.`,
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;

/**
 * `stepup replay` as a user runs it, on a log of tens of thousands of decisions: the main thread
 * alone against one thread per core, rounds alternating.
 */
async function replayLong(bundlePath: string, dir: string, quick: boolean) {
  const distinct = quick ? 1_000 : 20_000;
  const copies = quick ? 1 : 3;
  const path = join(dir, "long.ndjson");
  const logger = new DecisionLogger({ sinks: [new FileSink({ path, maxBytes: 1024 ** 3, spoolDir: join(dir, "long-spool") })], onReview: () => {} });
  const stepup = await Stepup.load(bundlePath, { onDecision: logger.onDecision, onError: () => {} });
  for (const [i, input] of sampleInputs(17, distinct).entries()) {
    stepup.decideInput(input);
    if (i % 500 === 499) await logger.flush();
  }
  await logger.close();
  const once = await readFile(path);
  for (let c = 1; c < copies; c++) await appendFile(path, once);
  const events = distinct * copies;
  const size = availableParallelism();
  const run = async (threads: number) => {
    const start = performance.now();
    const { stdout } = await cli(["replay", path, "--bundle", bundlePath, "--store", join(dir, "no-store"), "--threads", String(threads), "--json"]);
    const ms = performance.now() - start;
    const report = JSON.parse(stdout) as { reproduced: number };
    if (report.reproduced !== events) throw new Error(`replay reproduced ${report.reproduced} of ${events}`);
    return ms;
  };
  const rounds = quick ? 1 : 3;
  const times = { alone: [] as number[], threads: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    times.alone.push(await run(1));
    times.threads.push(await run(size));
  }
  return {
    alone: perItem(`replay verify by the CLI, ${events} decisions, the main thread alone (µs per decision, whole run)`, times.alone, events),
    threads: perItem(`the same on ${size} threads (µs per decision, whole run)`, times.threads, events),
    speedup: pairedSpeedup(times.alone, times.threads),
    size,
    events,
    rounds,
    mib: ((await stat(path)).size / 1024 ** 2).toFixed(0),
    fromMib: THREADS_FROM_BYTES / 1024 ** 2,
  };
}

function cli(args: string[]): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["dist/cli.js", ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // Exit code 1 means some decision did not reproduce; the report says which, and run() checks it.
      if (err && (err as { code?: unknown }).code !== 1) reject(new Error(`stepup replay failed: ${stderr || err.message}`));
      else resolve({ stdout });
    });
  });
}

/**
 * A report-only candidate's cost: batches of decisions without a candidate, and with one — timed
 * to the end of the synchronous decisions (what requests wait for), and to the end of the
 * candidate's deferred evaluations (all the work). The candidate is the same policy under another
 * revision, so both sides evaluate the same rules.
 */
async function shadowCost(bundlePath: string, corpus: readonly Input[], quick: boolean) {
  const metrics = new StepupMetrics();
  const plain = await Stepup.load(bundlePath, { onDecision: metrics.observe, onError: () => {} });
  const shadowed = await Stepup.load(bundlePath, { onDecision: metrics.observe, onError: () => {}, onRollout: () => {} });
  await shadowed.setCandidate(bundleFromFiles(withRevision(shadowed.bundle.files, "bench-candidate"), "bench-candidate"));
  const batch = 256;
  const rounds = quick ? 5 : 60;
  const next = cycle(corpus);
  const times = { plain: [] as number[], path: [] as number[], whole: [] as number[] };
  const decide = (stepup: Stepup) => {
    for (let i = 0; i < batch; i++) stepup.decideInput(next());
  };
  for (let round = 0; round < rounds + 2; round++) {
    const order = round % 2 === 0 ? ["plain", "shadowed"] : ["shadowed", "plain"];
    for (const side of order) {
      const start = performance.now();
      if (side === "plain") {
        decide(plain);
        if (round >= 2) times.plain.push(performance.now() - start);
        continue;
      }
      decide(shadowed);
      const path = performance.now() - start;
      await shadowed.settled();
      if (round >= 2) {
        times.path.push(path);
        times.whole.push(performance.now() - start);
      }
    }
  }
  return {
    plain: perItem(`${batch} decisions + metrics, no candidate (µs per decision)`, times.plain, batch),
    path: perItem(`the same with a candidate: the request's path (µs per decision)`, times.path, batch),
    whole: perItem(`the same with a candidate: all work, its deferred evaluation included (µs per decision)`, times.whole, batch),
    pathRatio: pairedSpeedup(times.path, times.plain),
    wholeRatio: pairedSpeedup(times.whole, times.plain),
    batch,
    rounds,
  };
}
