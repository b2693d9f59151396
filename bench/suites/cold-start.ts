/**
 * Cold start: a fresh Node process imports the SDK from dist/ (as users run it; `make bench`
 * builds it), loads the bundle and makes its first decision; the same for the stock SDK. Node's
 * own start-up is not counted. Runs alternate; the median run is reported.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { quantile, type Measurement, type Suite } from "../harness.js";

interface Phases {
  import: number;
  load: number;
  first: number;
  total: number;
}

const run = promisify(execFile);

const suite: Suite = {
  name: "cold start",
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), "stepup-cold-"));
    try {
      const inputPath = join(dir, "input.json");
      await writeFile(inputPath, JSON.stringify(ctx.corpus[0]));
      const once = async (mode: string[]): Promise<Phases> => {
        const { stdout } = await run(process.execPath, ["bench/children/cold-start.mjs", ctx.bundlePath, inputPath, ...mode]);
        return JSON.parse(stdout) as Phases;
      };
      const runs = ctx.quick ? 3 : 9;
      const ours: Phases[] = [];
      const stock: Phases[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await once([]));
        stock.push(await once(["stock"]));
      }
      const row = (name: string, ms: number[]): Measurement => {
        const sorted = [...ms].sort((a, b) => a - b);
        return { name, median_us: quantile(sorted, 0.5) * 1000, p99_us: sorted[sorted.length - 1]! * 1000, samples: ms.length };
      };
      return {
        suite: "cold start",
        measurements: [
          row("stepup: import + load bundle + first decide", ours.map((p) => p.total)),
          row("  import the SDK (compiles the contract checks)", ours.map((p) => p.import)),
          row("  load the bundle (read, compile wasm, load data)", ours.map((p) => p.load)),
          row("  first decide", ours.map((p) => p.first)),
          row("stock opa-wasm: import + loadPolicy + setData + first evaluate", stock.map((p) => p.total)),
        ],
        ratios: [],
        notes: [`${runs} fresh processes each, alternating; Node's own start-up not counted; p99 is the slowest run`],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
