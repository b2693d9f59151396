/**
 * In-process against sidecar: stepup's decide on the bundle's wasm beside the same decide through
 * an OPA sidecar over REST (keep-alive, one call in flight), on the same inputs, in one run; and
 * beside them the official @open-policy-agent/opa client asking the same sidecar for the same
 * decision document, as a team without stepup's SDK would. The suite starts the sidecar itself (a
 * container, or a plain process with STEPUP_SIDECAR=process) and stops it, also on failure.
 */
import { OPAClient } from "@open-policy-agent/opa";
import { DECISION_ENTRYPOINT } from "../../src/contracts/metadata.js";
import { parseVerdict } from "../../src/decision/verdict.js";
import { RemoteStepup } from "../../src/remote-stepup.js";
import { Stepup } from "../../src/stepup.js";
import { startSidecar } from "../../test/support/sidecar.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

const suite: Suite = {
  name: "sidecar",
  async run(ctx) {
    let failures = 0;
    const onError = () => {
      failures++;
    };
    const stepup = await Stepup.load(ctx.bundlePath, { onError });
    const sidecar = await startSidecar(ctx.bundlePath);
    let remote: RemoteStepup | undefined;
    try {
      // A generous deadline: a fail-closed answer would be fast and wrong, so any failure voids the run.
      remote = await RemoteStepup.connect({ url: sidecar.url, timeoutMs: 5_000, onError });
      const sidecarStepup = remote;
      const raw = ctx.corpus.map((input) => JSON.parse(JSON.stringify(input)) as unknown);
      const nextLocal = cycle(raw);
      const nextRemote = cycle(raw);
      const nextOfficial = cycle(ctx.corpus);
      const official = new OPAClient(sidecar.url);
      // What the official client gets must be a verdict, or its figure would time something else.
      for (const input of ctx.corpus) parseVerdict(await official.evaluate(DECISION_ENTRYPOINT, input));
      const [local, viaSidecar, roundTrip, viaOfficial] = await measure(
        {
          "in-process decide (wasm)": () => stepup.decide(nextLocal()),
          "sidecar decide (REST, keep-alive)": () => sidecarStepup.decide(nextRemote()),
          // The transport's floor, to tell HTTP from OPA's evaluation in the figure above.
          "sidecar round trip without evaluation (GET /health)": () => sidecarStepup.health(),
          "official @open-policy-agent/opa client, same sidecar (no validation, no rendering)": () =>
            official.evaluate(DECISION_ENTRYPOINT, nextOfficial()),
        },
        ctx,
      );
      if (!local || !viaSidecar || !roundTrip || !viaOfficial) throw new Error("missing measurement");
      if (failures > 0) throw new Error(`${failures} decisions failed closed during the run; the figures would be void`);
      return {
        suite: "sidecar",
        measurements: [local, viaSidecar, roundTrip, viaOfficial],
        ratios: [
          ratio("sidecar / in-process (median)", viaSidecar.median_us / local.median_us, { text: "≥ 20", met: (v) => v >= 20 }),
          ratio("sidecar / in-process (p99)", viaSidecar.p99_us / local.p99_us),
          ratio("official client / in-process (median)", viaOfficial.median_us / local.median_us, { text: "≥ 20", met: (v) => v >= 20 }),
        ],
        notes: [
          `sidecar: OPA ${sidecar.mode === "container" ? "in a container (FROM scratch, host network)" : "as a plain process"} on 127.0.0.1, bundle revision ${remote.revision}; both sides validate the input and render the decision`,
          "one decision in flight at a time; the sidecar's figure includes HTTP on loopback and OPA evaluating the Rego",
          "the official client (fetch, through undici's connection pool) gets OPA's decision document as it is: it neither checks the input nor renders reasons",
        ],
      };
    } finally {
      remote?.close();
      await sidecar.stop();
    }
  },
};

export default suite;
