/**
 * In-process decisions: stepup's decide (input validation included) beside the stock
 * @open-policy-agent/opa-wasm evaluate() on the same wasm and inputs.
 */
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { Stepup } from "../../src/stepup.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

const suite: Suite = {
  name: "in-process",
  async run(ctx) {
    const stepup = await Stepup.load(ctx.bundlePath);
    const stock = await loadPolicy(stepup.bundle.wasm);
    stock.setData(stepup.bundle.data);
    const raw = ctx.corpus.map((input) => JSON.parse(JSON.stringify(input)) as unknown);
    const nextRaw = cycle(raw);
    const nextInput = cycle(ctx.corpus);
    const [decide, evaluate] = await measure(
      {
        "stepup decide (validation + render)": () => stepup.decide(nextRaw()),
        "opa-wasm evaluate() (stock, no validation)": () => stock.evaluate(nextInput(), stepup.bundle.entrypoint),
      },
      ctx,
    );
    if (!decide || !evaluate) throw new Error("missing measurement");
    return {
      suite: "in-process",
      measurements: [decide, evaluate],
      ratios: [ratio("decide / stock evaluate (median)", decide.median_us / evaluate.median_us)],
      notes: [],
    };
  },
};

export default suite;
