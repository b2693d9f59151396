/**
 * Cold start: a fresh Node process imports the SDK from dist/ (as users run it; `make bench`
 * builds it), loads the bundle and makes its first decision; the same for the stock SDK. Node's
 * own start-up is not counted. Runs alternate, and each of our runs is compared with the stock run
 * beside it (the host's load swings between runs, less within a pair): the ratio is the median of
 * those pairs; the rows give the median run.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadBundle } from "../../src/bundle/load.js";
import { pairedSpeedup, quantile, ratio, type Measurement, type Suite } from "../harness.js";

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
      // The stock SDK reads a module and data, not stepup's bundles: the same ones, unpacked here.
      const unpacked = join(dir, "unpacked");
      const bundle = await loadBundle(ctx.bundlePath);
      await mkdir(unpacked);
      await writeFile(join(unpacked, "policy.wasm"), bundle.wasm);
      await writeFile(join(unpacked, "data.json"), JSON.stringify(bundle.data));
      await writeFile(join(unpacked, "entrypoint"), bundle.entrypoint);
      const once = async (mode: string[]): Promise<Phases> => {
        const from = mode.includes("stock") ? unpacked : ctx.bundlePath;
        const { stdout } = await run(process.execPath, ["bench/children/cold-start.mjs", from, inputPath, ...mode]);
        return JSON.parse(stdout) as Phases;
      };
      const runs = ctx.quick ? 3 : 15;
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
          row("  import the SDK", ours.map((p) => p.import)),
          row("  load the bundle (read and check it; compile the wasm and the input writers; load data; probe)", ours.map((p) => p.load)),
          row("  first decide", ours.map((p) => p.first)),
          row("stock opa-wasm: import + read module and data + loadPolicy + setData + first evaluate", stock.map((p) => p.total)),
          row("  import opa-wasm", stock.map((p) => p.import)),
          row("  read module and data + loadPolicy + setData", stock.map((p) => p.load)),
        ],
        ratios: [
          ratio(
            "stepup import + load + first decide / stock opa-wasm import + load + first evaluate (paired runs)",
            pairedSpeedup(ours.map((p) => p.total), stock.map((p) => p.total)),
            { text: "≤ 1.0", met: (v) => v <= 1.0 },
          ),
          ratio("  import: stepup / opa-wasm (paired runs)", pairedSpeedup(ours.map((p) => p.import), stock.map((p) => p.import))),
          ratio("  load: stepup / opa-wasm (paired runs)", pairedSpeedup(ours.map((p) => p.load), stock.map((p) => p.load))),
        ],
        notes: [`${runs} fresh processes each, alternating; Node's own start-up not counted; p99 is the slowest run`],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
