/**
 * Memory after millions of decisions: fresh processes decide the corpus in turn and read their
 * RSS, JS heap and the policy's wasm memory, after a full garbage collection, at 100,000
 * decisions and at 5,000,000 (200,000 with BENCH_QUICK=1). A leak per decision shows as growth
 * between the two; RSS that grows while heap and wasm memory do not is V8 reserving a larger heap
 * and the C allocator's arenas.
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
  external: number;
  wasm_memory: number;
  seconds: number;
  failures: number;
}

const suite: Suite = {
  name: "memory",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-memory-"));
    try {
      const corpusPath = join(dir, "corpus.json");
      await writeFile(corpusPath, JSON.stringify(ctx.corpus));
      // The target compares the first and last; the checkpoints between show whether RSS keeps
      // growing (a leak) or stops once the process is warm (V8's heap sizing, the allocator).
      const counts = ctx.quick ? [100_000, 150_000, 200_000] : [100_000, 1_000_000, 2_000_000, 3_500_000, 5_000_000];
      const args = ["--expose-gc", "bench/children/memory.mjs", ctx.bundlePath, corpusPath, ...counts.map(String)];
      // Two processes at once, one per core: glibc's defaults, and its arenas capped at two (a
      // common setting for Node in containers), to tell the allocator's growth from a leak.
      const [plain, capped] = await Promise.all([child(args, {}), child(args, { MALLOC_ARENA_MAX: "2" })]);
      const checkpoints = (lines: string[]) => {
        const all = lines.map((line) => JSON.parse(line) as Checkpoint);
        const [early, mid, late] = [all[0], all[1], all.at(-1)];
        if (!early || !mid || !late || all.length !== counts.length) throw new Error("the memory run reported too few checkpoints");
        if (late.failures > 0) throw new Error(`${late.failures} decisions failed closed; the figures would be void`);
        return { early, mid, late, all };
      };
      const a = checkpoints(plain);
      const b = checkpoints(capped);
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
      const between = `after ${a.late.decisions.toLocaleString("en")} / after ${a.early.decisions.toLocaleString("en")} decisions`;
      const describe = (name: string, { early, late, all }: typeof a) =>
        `${name}: RSS ${all.map((c) => `${mib(c.rss)} (${c.decisions.toLocaleString("en")})`).join(" → ")}, JS heap in use ${mib(early.heap_used)} → ${mib(late.heap_used)} (reserved ${mib(early.heap_total)} → ${mib(late.heap_total)}), external ${mib(early.external)} → ${mib(late.external)}, wasm memory ${mib(early.wasm_memory)} → ${mib(late.wasm_memory)} (${late.seconds.toFixed(0)} s of deciding)`;
      return {
        suite: "memory",
        measurements: [],
        ratios: [
          ratio(`RSS ${between}, MALLOC_ARENA_MAX=2`, b.late.rss / b.early.rss, { text: "≤ 1.05", met: (v) => v <= 1.05 }),
          ratio(`RSS ${between}, glibc's default arenas`, a.late.rss / a.early.rss, { text: "≤ 1.05", met: (v) => v <= 1.05 }),
          ratio(`JS heap in use, same two points`, a.late.heap_used / a.early.heap_used, { text: "≤ 1.05", met: (v) => v <= 1.05 }),
          ratio("wasm memory, same two points", a.late.wasm_memory / a.early.wasm_memory, { text: "= 1", met: (v) => v === 1 }),
          // Not targets: a leak grows with every decision, while V8 sizing its heap up and the
          // allocator's arenas (which happen in some runs and not in others) stop once warm.
          ratio(`RSS after ${a.late.decisions.toLocaleString("en")} / after ${a.mid.decisions.toLocaleString("en")}, glibc's default arenas`, a.late.rss / a.mid.rss),
          ratio(`RSS after ${b.late.decisions.toLocaleString("en")} / after ${b.mid.decisions.toLocaleString("en")}, MALLOC_ARENA_MAX=2`, b.late.rss / b.mid.rss),
        ],
        notes: [
          describe("glibc's default arenas", a),
          describe("MALLOC_ARENA_MAX=2", b),
          "each checkpoint read after a full garbage collection, in fresh processes running dist/ (decide, validation included); RSS growth that the JS heap in use and the wasm memory do not show is V8 reserving a larger heap (its young generation) and the C allocator's arenas, not a leak (docs/performance.md)",
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** Runs a Node child and gives its stdout lines; stderr passes through. */
function child(args: string[], env: Record<string, string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    proc.on("error", reject);
    proc.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n")) : reject(new Error(`memory run exited with ${code}`))));
  });
}

export default suite;
