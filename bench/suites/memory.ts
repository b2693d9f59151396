/**
 * Memory after millions of decisions: a fresh process decides the corpus in turn and reads its
 * RSS and the policy's wasm memory, after a full garbage collection, at 100,000 decisions and at
 * 5,000,000 (200,000 with BENCH_QUICK=1). A leak per decision shows as growth between the two.
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
      const counts = ctx.quick ? [100_000, 200_000] : [100_000, 5_000_000];
      const lines = await child(["--expose-gc", "bench/children/memory.mjs", ctx.bundlePath, corpusPath, ...counts.map(String)]);
      const [early, late] = lines.map((line) => JSON.parse(line) as Checkpoint);
      if (!early || !late) throw new Error("the memory run reported no checkpoints");
      if (late.failures > 0) throw new Error(`${late.failures} decisions failed closed; the figures would be void`);
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
      return {
        suite: "memory",
        measurements: [],
        ratios: [
          ratio(`RSS after ${late.decisions.toLocaleString("en")} / after ${early.decisions.toLocaleString("en")} decisions`, late.rss / early.rss, {
            text: "≤ 1.05",
            met: (v) => v <= 1.05,
          }),
          ratio("wasm memory, same two points", late.wasm_memory / early.wasm_memory, { text: "= 1", met: (v) => v === 1 }),
        ],
        notes: [
          `after ${early.decisions.toLocaleString("en")} decisions: RSS ${mib(early.rss)}, JS heap in use ${mib(early.heap_used)}, wasm memory ${mib(early.wasm_memory)}`,
          `after ${late.decisions.toLocaleString("en")} decisions: RSS ${mib(late.rss)}, JS heap in use ${mib(late.heap_used)}, wasm memory ${mib(late.wasm_memory)} (${late.seconds.toFixed(0)} s of deciding)`,
          "each checkpoint read after a full garbage collection, in a fresh process running dist/ (decide, validation included)",
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

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
