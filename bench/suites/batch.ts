/**
 * Batch throughput: NDJSON input documents decided into NDJSON decisions (the shape of decision
 * logs, as replay and simulation read and write them), by one thread and by the decision pool on
 * every core. Both do the same work per line: parse, decide (validation and rendering included),
 * serialize. Rounds alternate, and each figure is the median round.
 */
import { availableParallelism } from "node:os";
import { Stepup } from "../../src/stepup.js";
import { quantile, ratio, type Measurement, type Suite } from "../harness.js";

const suite: Suite = {
  name: "batch",
  async run(ctx) {
    let failures = 0;
    const stepup = await Stepup.load(ctx.bundlePath, { onError: () => failures++ });
    const copies = ctx.quick ? 30 : 250;
    const lines = Array.from({ length: copies }, () => ctx.corpus.map((input) => JSON.stringify(input))).flat();
    const text = `${lines.join("\n")}\n`;
    const size = availableParallelism();
    const pool = await stepup.pool({ size });
    try {
      const single = () => {
        const out: string[] = [];
        for (const line of lines) out.push(JSON.stringify(stepup.decide(JSON.parse(line))));
        return `${out.join("\n")}\n`;
      };
      const pooled = () => pool.decideLines(text);
      // Warm both paths (the JIT, and every thread's instance), and check they agree.
      const [a, b] = [single(), await pooled()];
      if (a.split("\n").length !== b.split("\n").length) throw new Error("the pool and the thread decided different numbers of lines");
      const rounds = ctx.quick ? 3 : 9;
      const times = { single: [] as number[], pooled: [] as number[] };
      // CPU time of the whole process (every thread): what the pool costs beyond the work itself,
      // whatever share of the cores the machine grants it.
      const cpu = { single: 0, pooled: 0 };
      const used = (since: NodeJS.CpuUsage) => {
        const { user, system } = process.cpuUsage(since);
        return user + system;
      };
      for (let round = 0; round < rounds; round++) {
        let start = performance.now();
        let cpuStart = process.cpuUsage();
        single();
        times.single.push(performance.now() - start);
        cpu.single += used(cpuStart);
        start = performance.now();
        cpuStart = process.cpuUsage();
        await pooled();
        times.pooled.push(performance.now() - start);
        cpu.pooled += used(cpuStart);
      }
      if (failures > 0) throw new Error(`${failures} decisions failed closed during the run; the figures would be void`);
      const row = (name: string, ms: number[]): Measurement => {
        const sorted = [...ms].sort((x, y) => x - y);
        const median = quantile(sorted, 0.5);
        return {
          name,
          median_us: (median * 1000) / lines.length,
          p99_us: (sorted[sorted.length - 1]! * 1000) / lines.length,
          samples: ms.length,
          ops_per_s: (lines.length * 1000) / median,
        };
      };
      const one = row("one thread: NDJSON in, decide, NDJSON out (µs per decision)", times.single);
      const many = row(`decision pool, ${size} threads: same lines, same work (µs per decision)`, times.pooled);
      return {
        suite: "batch",
        measurements: [one, many],
        ratios: [ratio(`pool throughput / one thread (${size} cores)`, many.ops_per_s! / one.ops_per_s!, { text: "≥ 1.8", met: (v) => v >= 1.8 })],
        notes: [
          `${lines.length} lines per round (${copies} copies of the corpus), ${rounds} rounds alternating; median round, and its slowest as p99`,
          "the pool shares one compiled module among its threads; each thread parses, decides and serializes its batches",
          `CPU time per decision, all threads: one thread ${(cpu.single / rounds / lines.length).toFixed(1)} µs, pool ${(cpu.pooled / rounds / lines.length).toFixed(1)} µs (the pool's own cost is the difference; on ${size} idle cores its throughput approaches ${size} × one thread's less that cost)`,
        ],
      };
    } finally {
      await pool.close();
    }
  },
};

export default suite;
