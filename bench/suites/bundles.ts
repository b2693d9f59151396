/**
 * Bundles for fleets: what verification costs beside merely reading the archive (both measured
 * here, on the bundle built for the run, signed with fresh ES256 and RS256 keys), what a hot swap
 * costs, and whether decisions slow down while bundles are swapped in underneath them.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { readArchive, writeArchive } from "../../src/bundle/archive.js";
import { readBundle } from "../../src/bundle/load.js";
import { signFiles } from "../../src/bundle/sign.js";
import { BundleVerifier } from "../../src/bundle/verify.js";
import { Stepup } from "../../src/stepup.js";
import { cycle, measure, ratio, type Suite } from "../harness.js";

function keys(algorithm: "ES256" | "RS256") {
  const pair =
    algorithm === "ES256" ? generateKeyPairSync("ec", { namedCurve: "prime256v1" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    verifier: new BundleVerifier({
      keys: { default: { key: pair.publicKey.export({ type: "spki", format: "pem" }) as string, algorithm } },
    }),
  };
}

const suite: Suite = {
  name: "bundles",
  async run(ctx) {
    const unsigned = await readFile(ctx.bundlePath);
    const files = await readArchive(unsigned, "bench");
    const es = keys("ES256");
    const rs = keys("RS256");
    const signedEs = writeArchive(await signFiles(files, { key: es.privatePem, algorithm: "ES256" }));
    const signedRs = writeArchive(await signFiles(files, { key: rs.privatePem, algorithm: "RS256" }));

    const reading = await measure(
      {
        "read bundle (gunzip, untar, parse; no signature)": () => readBundle(signedEs, "bench"),
        "read + verify bundle, ES256": () => readBundle(signedEs, "bench", { verifier: es.verifier }),
        "read + verify bundle, RS256": () => readBundle(signedRs, "bench", { verifier: rs.verifier }),
      },
      ctx,
    );
    const [read, verifyEs, verifyRs] = reading;

    const stepup = await Stepup.load(ctx.bundlePath, { onError: () => {} });
    const bundle = await readBundle(signedEs, "bench");
    const [swap] = await measure({ "activate (compile wasm, swap)": () => stepup.activate(bundle) }, ctx);

    const next = cycle(ctx.corpus);
    const [steady] = await measure({ "decide, no swap running": () => stepup.decideInput(next()) }, ctx);
    // Swap a bundle in every 20 ms for the length of the measurement.
    let swapping = true;
    const swapper = (async () => {
      while (swapping) {
        await stepup.activate(bundle);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const [during] = await measure({ "decide, a swap every 20 ms": () => stepup.decideInput(next()) }, ctx);
    swapping = false;
    await swapper;

    if (!read || !verifyEs || !verifyRs || !swap || !steady || !during) throw new Error("missing measurement");
    return {
      suite: "bundles",
      measurements: [read, verifyEs, verifyRs, swap, steady, during],
      ratios: [
        ratio("read + verify ES256 / read (median)", verifyEs.median_us / read.median_us),
        ratio("read + verify RS256 / read (median)", verifyRs.median_us / read.median_us),
        ratio("decide during swaps / steady (median)", during.median_us / steady.median_us, {
          text: "≤ 1.2",
          met: (v) => v <= 1.2,
        }),
        ratio("decide during swaps / steady (p99)", during.p99_us / steady.p99_us),
      ],
      notes: [
        `bundle: ${unsigned.byteLength} bytes compressed, ${files.size} files; verification hashes every file (SHA-256, JSON in OPA's normal form) and checks one JWT`,
        "a swap compiles the new wasm off the decision path; decisions are synchronous, so none is split between revisions",
      ],
    };
  },
};

export default suite;
