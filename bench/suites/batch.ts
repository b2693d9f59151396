/**
 * Batch throughput: NDJSON input documents decided into NDJSON decisions (the shape of decision
 * logs, as replay and simulation read and write them), by one thread and by the decision pool on
 * every core. Both take the UTF-8 bytes of a file and answer bytes, and do the same work per line
 * with the same code: decode, parse, decide (validation and rendering included), serialize,
 * encode. Both write each call's answers into the memory of the last call's (`into`), as a batch
 * job that writes its answers out piece by piece does. Rounds alternate, and each figure is the
 * median round.
 *
 * Beside them, the machine's own ceiling for any pool: the same single-thread work in separate
 * processes, each for fixed windows alone and then all at once. Nothing is shared between those
 * processes, so what they lose running together (a VM's cores slowing when both are busy, a
 * shared cache, memory bandwidth) is the hardware's, not the pool's.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Stepup } from "../../src/stepup.js";
import { pairedSpeedup, perItem, quantile, ratio, type Measurement, type Suite } from "../harness.js";

const suite: Suite = {
  name: "batch",
  async run(ctx) {
    let failures = 0;
    const stepup = await Stepup.load(ctx.bundlePath, { onError: () => failures++ });
    const copies = ctx.quick ? 30 : 250;
    const lines = Array.from({ length: copies }, () => ctx.corpus.map((input) => JSON.stringify(input))).flat();
    const text = `${lines.join("\n")}\n`;
    // UTF-8 bytes in and out, as a batch job reads and writes files.
    const bytes = Buffer.from(text);
    const size = availableParallelism();
    const pool = await stepup.pool({ size });
    try {
      // The same work on this thread: the pool's threads decide their chunks with the same code
      // (src/engine/batch/ndjson.ts). Each writes its answers into the memory of its last ones.
      let [singleOut, pooledOut] = [undefined as Buffer | undefined, undefined as Buffer | undefined];
      const single = () => (singleOut = stepup.decideLines(bytes, { into: singleOut }));
      const pooled = async () => (pooledOut = await pool.decideLines(bytes, { into: pooledOut }));
      // Warm both paths (the JIT, and every thread's instance), and check they agree.
      const [a, b] = [single(), await pooled()];
      const count = (out: Buffer) => out.toString("utf8").split("\n").length;
      if (count(a) !== count(b)) throw new Error("the pool and the thread decided different numbers of lines");
      // Rounds of ~0.2 s each way: 30 pairs span ~12 s of this host's swings, each pair within ~0.4 s.
      const rounds = ctx.quick ? 3 : 30;
      const times = { single: [] as number[], pooled: [] as number[] };
      // CPU time of the whole process (every thread): what the pool costs beyond the work itself,
      // whatever share of the cores the machine grants it.
      const cpu = { single: 0, pooled: 0 };
      const used = (since: NodeJS.CpuUsage) => {
        const { user, system } = process.cpuUsage(since);
        return user + system;
      };
      // The same by thread, where the system tells (Linux): which thread spends it.
      const byThread = { single: new Map<number, number>(), pooled: new Map<number, number>() };
      const runSingle = () => {
        const threadsBefore = threadCpu();
        const [start, cpuStart] = [performance.now(), process.cpuUsage()];
        single();
        times.single.push(performance.now() - start);
        cpu.single += used(cpuStart);
        addDeltas(byThread.single, threadsBefore, threadCpu());
      };
      const runPooled = async () => {
        const threadsBefore = threadCpu();
        const [start, cpuStart] = [performance.now(), process.cpuUsage()];
        await pooled();
        times.pooled.push(performance.now() - start);
        cpu.pooled += used(cpuStart);
        addDeltas(byThread.pooled, threadsBefore, threadCpu());
      };
      // The order within a round alternates: whichever goes second pays for what the first left
      // behind (garbage, cold caches), and a pool round after a single-thread one measured 4-5 %
      // slower than before one.
      for (let round = 0; round < rounds; round++) {
        if (round % 2 === 0) {
          runSingle();
          await runPooled();
        } else {
          await runPooled();
          runSingle();
        }
      }
      if (failures > 0) throw new Error(`${failures} decisions failed closed during the run; the figures would be void`);
      const one = perItem("one thread: NDJSON in, decide, NDJSON out (µs per decision)", times.single, lines.length);
      const many = perItem(`decision pool, ${size} threads: same lines, same work (µs per decision)`, times.pooled, lines.length);
      // Each pool round against the single-thread round of the same round, as the ceiling
      // compares each process with itself.
      const scaling = pairedSpeedup(times.single, times.pooled);
      const fresh = await freshMemoryCost(pooled, () => pool.decideLines(bytes), ctx.quick ? 2 : 10);
      const ceiling = await independentProcesses(ctx.bundlePath, text, size, ctx.quick);
      return {
        suite: "batch",
        measurements: [
          one,
          many,
          throughput("one process alone, same work, fixed windows (µs per decision)", ceiling.alone, ceiling.rounds * size),
          throughput(`${size} independent processes at once, same work (µs per decision, all together)`, ceiling.together, ceiling.rounds),
        ],
        ratios: [
          ratio(`pool throughput / one thread (${size} cores; median of rounds)`, scaling, { text: "≥ 1.8", met: (v) => v >= 1.8 }),
          ratio(`${size} independent processes / one alone: the machine's ceiling for any pool`, ceiling.ratio),
          ratio("pool's scaling / the machine's ceiling", scaling / ceiling.ratio),
        ],
        notes: [
          `${lines.length} lines per round (${copies} copies of the corpus), ${rounds} rounds, one thread and the pool in each, which goes first alternating; median round, and its slowest as p99`,
          `pool throughput / one thread is the median over rounds of each pool round's speed-up on the single-thread round beside it (the two in alternating order); the ratio of the two median rows is ${(many.ops_per_s! / one.ops_per_s!).toFixed(2)}`,
          "both take the corpus as NDJSON bytes and answer NDJSON bytes, deciding line by line with the same code (src/engine/batch/ndjson.ts): one thread with `Stepup.decideLines`, the pool with `DecisionPool.decideLines`, whose threads share one compiled module, take chunks of the shared input from a counter and copy their answers into the shared output; each call writes into the memory of the last call's answers (`into`)",
          `answers into fresh memory instead (no \`into\`): the pool ${((fresh - 1) * 100).toFixed(1)} % slower per call (median of ${ctx.quick ? 2 : 10} rounds of two calls each way, in one pool): the first writing of fresh memory costs a page fault per 4 KiB`,
          `CPU time per decision, all threads: one thread ${(cpu.single / rounds / lines.length).toFixed(1)} µs, pool ${(cpu.pooled / rounds / lines.length).toFixed(1)} µs (the pool's own cost is the difference; on ${size} idle cores its throughput approaches ${size} × one thread's less that cost)`,
          ...threadNote(byThread, size, rounds * lines.length),
          `ceiling: ${size} warm processes; in each of ${ceiling.rounds} rounds every one runs a ${ceiling.windowMs / 1000} s window alone, then all run one at once; the ceiling is each process's throughput together over its own alone, summed, median round (rounds ranged ${ceiling.low.toFixed(2)}–${ceiling.high.toFixed(2)})`,
        ],
      };
    } finally {
      await pool.close();
    }
  },
};

export default suite;

/**
 * How much longer a pool call takes writing its answers into fresh memory than into the memory of
 * its last answers: rounds of fresh, into, into, fresh, each round's pair compared.
 */
async function freshMemoryCost(into: () => Promise<unknown>, fresh: () => Promise<unknown>, rounds: number): Promise<number> {
  const time = async (call: () => Promise<unknown>) => {
    const start = performance.now();
    await call();
    return performance.now() - start;
  };
  const [freshMs, intoMs] = [[] as number[], [] as number[]];
  for (let round = 0; round < rounds; round++) {
    const [f1, i1, i2, f2] = [await time(fresh), await time(into), await time(into), await time(fresh)];
    freshMs.push(f1 + f2);
    intoMs.push(i1 + i2);
  }
  return pairedSpeedup(freshMs, intoMs);
}

/** CPU time of each of this process's threads so far, in µs, by thread id (Linux; none elsewhere). */
function threadCpu(): Map<number, number> {
  const times = new Map<number, number>();
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return times;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // utime and stime, fields 14 and 15, in clock ticks (100 a second on Linux); the name
      // before them, in parentheses, may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      times.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 10_000);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

function addDeltas(into: Map<number, number>, before: Map<number, number>, after: Map<number, number>): void {
  for (const [tid, us] of after) into.set(tid, (into.get(tid) ?? 0) + us - (before.get(tid) ?? 0));
}

/**
 * Where the CPU time goes, per decision: the main thread, the pool's threads (the busiest others
 * in pool rounds) and the rest (V8's and libuv's helpers: the collector's parallel and concurrent
 * work, compilers, file I/O).
 */
function threadNote(byThread: { single: Map<number, number>; pooled: Map<number, number> }, size: number, decisions: number): string[] {
  if (byThread.single.size === 0) return [];
  const per = (us: number) => (us / decisions).toFixed(1);
  const main = (m: Map<number, number>) => m.get(process.pid) ?? 0;
  const rest = (m: Map<number, number>, except: number[]) => [...m].filter(([tid]) => !except.includes(tid)).reduce((sum, [, us]) => sum + us, 0);
  const workers = [...byThread.pooled].filter(([tid]) => tid !== process.pid).sort((a, b) => b[1] - a[1]).slice(0, size);
  const workerIds = workers.map(([tid]) => tid);
  return [
    `CPU time per decision by thread (/proc/self/task, 10 ms ticks): one thread — main ${per(main(byThread.single))} µs, V8's and libuv's helpers ${per(rest(byThread.single, [process.pid]))} µs; pool — its threads ${workers.map(([, us]) => per(us)).join(" + ")} µs, main ${per(main(byThread.pooled))} µs, helpers ${per(rest(byThread.pooled, [process.pid, ...workerIds]))} µs`,
  ];
}

function throughput(name: string, opsPerSecond: number, samples: number): Measurement {
  const us = 1e6 / opsPerSecond;
  return { name, median_us: us, p99_us: us, samples, ops_per_s: opsPerSecond };
}

/**
 * The single-thread work in `count` separate processes: in each round every process runs a window
 * alone, then all run one at once. Each process's throughput together, as a share of its own
 * throughput alone, summed over the processes, is how many lone processes' work the machine does
 * with every core busy. Comparing each process with itself keeps out how fast it happened to be
 * (a fresh process's speed varies by 10–15 % here: address layout, hash seeds, the JIT's choices).
 */
async function independentProcesses(bundlePath: string, text: string, count: number, quick: boolean) {
  const dir = await mkdtemp(join(tmpdir(), "stepup-batch-"));
  const windowMs = quick ? 500 : 2_000;
  const rounds = quick ? 1 : 3;
  const procs: Child[] = [];
  try {
    const linesPath = join(dir, "lines.ndjson");
    await writeFile(linesPath, text);
    for (let i = 0; i < count; i++) procs.push(new Child(["bench/children/batch-alone.mjs", bundlePath, linesPath, String(windowMs)]));
    await Promise.all(procs.map((proc) => proc.next()));
    const alone: number[] = [];
    const together: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const lone: number[] = [];
      for (const proc of procs) lone.push(await proc.window());
      const all = await Promise.all(procs.map((proc) => proc.window()));
      alone.push(...lone);
      together.push(sum(all));
      ratios.push(sum(all.map((rate, i) => rate / lone[i]!)));
    }
    const median = (xs: number[]) => quantile([...xs].sort((x, y) => x - y), 0.5);
    const sorted = [...ratios].sort((x, y) => x - y);
    return { alone: median(alone), together: median(together), ratio: median(ratios), low: sorted[0]!, high: sorted.at(-1)!, rounds, windowMs };
  } finally {
    for (const proc of procs) proc.end();
    await rm(dir, { recursive: true, force: true });
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A Node child speaking in lines: `next()` is its next stdout line, `window()` runs one window. */
class Child {
  private readonly proc;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private failed: Error | undefined;
  private reject: ((err: Error) => void) | undefined;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
    let buffer = "";
    this.proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
        this.lines.push(buffer.slice(0, at));
        buffer = buffer.slice(at + 1);
      }
      this.deliver();
    });
    this.proc.on("exit", (code) => this.fail(new Error(`batch process exited with ${code}`)));
    this.proc.on("error", (err) => this.fail(err));
  }

  next(): Promise<string> {
    if (this.failed && this.lines.length === 0) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.reject = reject;
      this.deliver();
    });
  }

  /** Runs one window; its decisions per second. */
  async window(): Promise<number> {
    this.proc.stdin.write("go\n");
    const { decisions, ms, failures } = JSON.parse(await this.next()) as { decisions: number; ms: number; failures: number };
    if (failures > 0) throw new Error(`${failures} decisions failed closed in a batch process; the figures would be void`);
    return (decisions * 1000) / ms;
  }

  end(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }

  private deliver(): void {
    if (!this.waiting || this.lines.length === 0) return;
    const resolve = this.waiting;
    this.waiting = this.reject = undefined;
    resolve(this.lines.shift()!);
  }

  private fail(err: Error): void {
    this.failed = err;
    const reject = this.reject;
    this.waiting = this.reject = undefined;
    reject?.(err);
  }
}
