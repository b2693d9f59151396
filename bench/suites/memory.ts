/**
 * Memory after millions of decisions: fresh processes decide the corpus in turn and read their
 * RSS, V8's heap and the policy's wasm memory at 100,000 decisions, at 5,000,000 (200,000 with
 * BENCH_QUICK=1) and at checkpoints between, each reading taken once the process has collected
 * and compacted its garbage and V8 has released the freed pages (bench/children/memory.mjs). A leak
 * grows with every decision; V8 sizing its heap grows once.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ratio, type Suite } from "../harness.js";

interface Checkpoint {
  decisions: number;
  rss: number;
  heap_used: number;
  heap_total: number;
  young_generation: number;
  external: number;
  wasm_memory: number;
  seconds: number;
  failures: number;
}

// V8's largest semi-space on 64-bit machines (MiB): the young generation a busy process ends with.
export const SEMI_SPACE_MIB = 16;

const suite: Suite = {
  name: "memory",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-memory-"));
    try {
      const corpusPath = join(dir, "corpus.json");
      await writeFile(corpusPath, JSON.stringify(ctx.corpus));
      // The target compares the first and last; the checkpoints between show whether RSS keeps
      // growing (a leak) or steps once (V8's heap sizing).
      const counts = ctx.quick ? [100_000, 150_000, 200_000] : [100_000, 1_000_000, 2_000_000, 3_500_000, 5_000_000];
      const args = ["bench/children/memory.mjs", ctx.bundlePath, corpusPath, ...counts.map(String)];
      // Two processes at once, one per core. V8 starts a process with a small young generation and
      // doubles it once the objects that survived its scavenges add up to its size; in a process
      // that decides all day that happens once, at 2–7.5 million decisions here, and adds 16 MiB
      // whenever it comes. So the target is read where the young generation has its full size from
      // the start (V8's own flags for it), and V8's defaults run beside it with the same readings.
      const [fixed, defaults] = await Promise.all([
        child(["--expose-gc", `--min-semi-space-size=${SEMI_SPACE_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`, ...args]),
        child(["--expose-gc", ...args]),
      ]);
      const checkpoints = (lines: string[]) => {
        const all = lines.map((line) => JSON.parse(line) as Checkpoint);
        const [early, mid, late] = [all[0], all[1], all.at(-1)];
        if (!early || !mid || !late || all.length !== counts.length) throw new Error("the memory run reported too few checkpoints");
        if (late.failures > 0) throw new Error(`${late.failures} decisions failed closed; the figures would be void`);
        return { early, mid, late, all };
      };
      const a = checkpoints(fixed);
      const b = checkpoints(defaults);
      // The fixed size must be the one V8 grows to, or the comparison would hide its growth.
      if (b.late.young_generation > a.late.young_generation) throw new Error(`V8's defaults grew the young generation past the fixed size (${mib(b.late.young_generation)}); raise SEMI_SPACE_MIB`);
      const between = `after ${a.late.decisions.toLocaleString("en")} / after ${a.early.decisions.toLocaleString("en")} decisions`;
      const describe = (name: string, { early, late, all }: typeof a) =>
        `${name}: RSS ${all.map((c) => `${mib(c.rss)} (${c.decisions.toLocaleString("en")})`).join(" → ")}, young generation ${all.map((c) => mib(c.young_generation)).join(" → ")}, JS heap in use ${mib(early.heap_used)} → ${mib(late.heap_used)} (reserved ${mib(early.heap_total)} → ${mib(late.heap_total)}), external ${mib(early.external)} → ${mib(late.external)}, wasm memory ${mib(early.wasm_memory)} → ${mib(late.wasm_memory)} (${late.seconds.toFixed(0)} s of deciding)`;
      const youngGrowth = b.late.young_generation - b.early.young_generation;
      return {
        suite: "memory",
        measurements: [],
        ratios: [
          ratio(`RSS ${between}, young generation at its full size from the start`, a.late.rss / a.early.rss, { text: "≤ 1.05", met: (v) => v <= 1.05 }),
          ratio(`JS heap in use, same two points`, a.late.heap_used / a.early.heap_used, { text: "≤ 1.05", met: (v) => v <= 1.05 }),
          ratio("wasm memory, same two points", a.late.wasm_memory / a.early.wasm_memory, { text: "= 1", met: (v) => v === 1 }),
          // Not targets: V8's defaults, and the same after its young generation's growth is
          // taken out (the growth shows in the notes, checkpoint by checkpoint).
          ratio(`RSS ${between}, V8's defaults`, b.late.rss / b.early.rss),
          ratio(`RSS ${between}, V8's defaults, less the young generation's growth (${mib(youngGrowth)})`, (b.late.rss - youngGrowth) / b.early.rss),
          ratio(`RSS after ${a.late.decisions.toLocaleString("en")} / after ${a.mid.decisions.toLocaleString("en")}, young generation at its full size`, a.late.rss / a.mid.rss),
        ],
        notes: [
          describe(`young generation at its full size (--min-semi-space-size=${SEMI_SPACE_MIB} --max-semi-space-size=${SEMI_SPACE_MIB})`, a),
          describe("V8's defaults", b),
          "fresh processes running dist/ (decide, validation included), both at once; each checkpoint read after a full garbage collection that compacts every page and a second of idle for V8 to release the freed pages; a leak would grow the JS heap in use, the wasm memory or RSS at every checkpoint (docs/performance.md)",
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Runs a Node child and gives its stdout lines; stderr passes through. */
function child(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    proc.on("error", reject);
    proc.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n")) : reject(new Error(`memory run exited with ${code}`))));
  });
}

export default suite;
