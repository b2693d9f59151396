/**
 * What auditing costs: a decision alone, with metrics, and with the decision logger (masking on,
 * an NDJSON file sink) — the logger's share is the synchronous work on the decision path (event,
 * mask, one JSON line); the file write happens off that path. And replay throughput: logged
 * decisions verified per second on their own revision.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DecisionLogger } from "../../src/audit/logger.js";
import { StepupMetrics } from "../../src/audit/metrics.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { RevisionIndex, verify } from "../../src/audit/replay.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import type { MaskRule } from "../../src/contracts/decision-log.js";
import { Stepup } from "../../src/stepup.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

const MASK: MaskRule[] = [
  { op: "hash", path: "/input/subject/id" },
  { op: "truncate_ip", path: "/input/network/ip" },
  "/input/target/resource",
];

const suite: Suite = {
  name: "audit",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-bench-audit-"));
    try {
      const plain = await Stepup.load(ctx.bundlePath);
      const metrics = new StepupMetrics();
      const measured = await Stepup.load(ctx.bundlePath, { onDecision: metrics.observe });
      const sink = new FileSink({ path: join(dir, "decisions.ndjson"), maxBytes: 32 * 1024 * 1024, maxFiles: 2 });
      const logger = new DecisionLogger({ sinks: [sink], mask: MASK, hashKey: "bench", metrics });
      const logged = await Stepup.load(ctx.bundlePath, {
        onDecision: (e) => {
          metrics.observe(e);
          logger.onDecision(e);
        },
      });
      const [a, b, c] = [cycle(ctx.corpus), cycle(ctx.corpus), cycle(ctx.corpus)];
      const results = await measure(
        {
          "decideInput, no audit": () => plain.decideInput(a()),
          "decideInput + metrics": () => measured.decideInput(b()),
          "decideInput + metrics + decision log (mask, file sink)": () => logged.decideInput(c()),
        },
        ctx,
      );
      await logger.close();
      const sinkDrops = Object.entries(sink.dropped).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
      const [none, withMetrics, withLog] = results;
      if (!none || !withMetrics || !withLog) throw new Error("missing measurement");

      // Replay throughput: verifying a log of N decisions, measured as a whole, batch after batch.
      const n = 200;
      const replayLog = join(dir, "replay.ndjson");
      const replayLogger = new DecisionLogger({ sinks: [new FileSink({ path: replayLog, maxBytes: 1024 ** 3 })] });
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

      return {
        suite: "audit",
        measurements: [none, withMetrics, withLog, replay],
        ratios: [
          ratio("decide + metrics / decide (median)", withMetrics.median_us / none.median_us),
          ratio("decide + metrics + log / decide (median)", withLog.median_us / none.median_us),
        ],
        notes: [
          "The logger's cost on the decision path is building the event, masking (copy-on-write along the masked paths) and one JSON.stringify; file writes are asynchronous.",
          `File sink drops during the measurement (a tight loop starves the writer): ${sinkDrops}.`,
          `Replay: ops/s is decisions verified per second (${n} per run over the median run).`,
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
