/**
 * A bundle's wasm is code from outside. A module that loops — unsigned, or signed with a stolen
 * key — once hung `Stepup.load` or the first `decide`. Here the test bundle's own module is made
 * to loop (with binaryen) where the engine calls it: in its start function, while it parses a
 * value at start-up, in every evaluation. Each is refused when it is loaded or activated, within
 * the load budget; the bundle client keeps deciding on its last good revision.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { writeArchive, type BundleFiles } from "../../src/bundle/archive.js";
import { readBundle } from "../../src/bundle/load.js";
import { BundleInvalidError } from "../../src/errors.js";
import { BundleClient } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";
import { Stepup } from "../../src/stepup.js";
import { keyPair, readFiles, stepupSign, withRevision, writeFiles, type KeyPair } from "../support/bundles.js";
import { publishBytes, waitFor } from "../support/publish.js";

type Binaryen = typeof import("binaryen").default;

/** Where the module loops: an export the engine calls, or the start function. */
type Spot = { export: string } | "start";

/** The module with a loop that never ends put where `spot` says. */
function looping(binaryen: Binaryen, wasm: Uint8Array, spot: Spot): Uint8Array {
  const module = binaryen.readBinary(wasm);
  const spin = (result: number) =>
    result === binaryen.none
      ? module.loop("spin", module.br("spin"))
      : module.block(null, [module.loop("spin", module.br("spin")), module.unreachable()], result);
  if (spot === "start") {
    module.addFunction("stepup_test_spin_start", binaryen.none, binaryen.none, [], spin(binaryen.none));
    module.setStart(module.getFunction("stepup_test_spin_start"));
  } else {
    const exported = binaryen.getExportInfo(module.getExport(spot.export));
    const info = binaryen.getFunctionInfo(module.getFunction(exported.value));
    module.addFunction(`stepup_test_spin_${spot.export}`, info.params, info.results, [], spin(info.results));
    module.removeExport(spot.export);
    module.addFunctionExport(`stepup_test_spin_${spot.export}`, spot.export);
  }
  const out = module.emitBinary();
  module.dispose();
  return out;
}

let binaryen: Binaryen;
let base: BundleFiles;
let modulePath: string;
let scratch: string;
let key: KeyPair;

beforeAll(async () => {
  binaryen = (await import("binaryen")).default;
  base = await readFiles(inject("bundlePath"));
  const manifest = JSON.parse(Buffer.from(base.get(".manifest")!).toString("utf8")) as { metadata: { stepup: { wasm: { module: string } } } };
  modulePath = manifest.metadata.stepup.wasm.module.replace(/^\//, "");
  scratch = await mkdtemp(join(tmpdir(), "stepup-looping-"));
  key = await keyPair(scratch, "ES256", "fleet");
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function withModule(revision: string, spot: Spot): BundleFiles {
  const files = withRevision(base, revision);
  files.set(modulePath, looping(binaryen, files.get(modulePath)!, spot));
  return files;
}

const SPOTS: [string, Spot][] = [
  ["in its start function", "start"],
  ["while it parses a value at start-up", { export: "opa_value_parse" }],
  ["in every evaluation", { export: "eval" }],
];

describe("a module that loops", () => {
  for (const [where, spot] of SPOTS) {
    it(`is refused by Stepup.create within its load budget: ${where}`, async () => {
      const bundle = await readBundle(writeArchive(withModule("looping", spot)), "looping");
      const began = Date.now();
      const err = await Stepup.create(bundle, { loadBudgetMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BundleInvalidError);
      expect((err as Error).message).toMatch(/did not start and evaluate its probe inputs within 500 ms/);
      // Far below a hang; the margin is for a busy machine.
      expect(Date.now() - began).toBeLessThan(500 + 4_000);
    });
  }

  it("is refused by Stepup.load with the default budget, and the process goes on deciding", async () => {
    const path = await writeFiles(join(scratch, "looping-eval.tar.gz"), withModule("looping", { export: "eval" }));
    await expect(Stepup.load(path)).rejects.toThrow(/did not start and evaluate its probe inputs within 5000 ms/);
    const sound = await Stepup.load(inject("bundlePath"));
    expect(sound.decide({ now: 1_795_852_800, subject: { id: "a@example.com", kind: "human" }, target: { app: "wiki", action: "read" } }).error).toBeUndefined();
  });

  it("is refused by activate, which leaves the active revision deciding", async () => {
    const stepup = await Stepup.load(inject("bundlePath"), { loadBudgetMs: 500 });
    const bundle = await readBundle(writeArchive(withModule("looping", { export: "eval" })), "looping");
    await expect(stepup.activate(bundle)).rejects.toThrow(BundleInvalidError);
    expect(stepup.revision).toBe("test-revision");
    expect(stepup.decide({ now: 1_795_852_800, subject: { id: "a@example.com", kind: "human" }, target: { app: "wiki", action: "read" } }).policy.revision).toBe("test-revision");
  });

  describe("signed and served to a bundle client", () => {
    let server: BundleServer;
    let served: string;
    beforeAll(async () => {
      served = join(scratch, "served");
      await (await import("node:fs/promises")).mkdir(served);
      server = await serveBundles({ dir: served, watchIntervalMs: 50 });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("is reported at activation, and the last good revision keeps deciding", async () => {
      await publishBytes(served, "b.tar.gz", writeArchive(await stepupSign(withRevision(base, "r1"), key)));
      const events: BundleEvent[] = [];
      const client = await BundleClient.start(
        { url: `${server.url}/b.tar.gz`, verification: { keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } }, polling: { minDelayMs: 100, maxDelayMs: 200, retryBaseMs: 100 } },
        { onEvent: (e) => events.push(e), loadBudgetMs: 500, onError: () => {} },
      );
      try {
        await publishBytes(served, "b.tar.gz", writeArchive(await stepupSign(withModule("r2", { export: "eval" }), key)));
        await waitFor("the looping revision refused", () => events.some((e) => e.type === "failed" && e.stage === "activate"), 15_000);
        const failed = events.find((e) => e.type === "failed");
        expect(failed).toMatchObject({ type: "failed", stage: "activate", revision: "r1" });
        expect(failed?.type === "failed" && failed.error.code).toBe("ERR_BUNDLE_INVALID");
        expect(client.revision).toBe("r1");
        expect(client.stepup.decide({ now: 1_795_852_800, subject: { id: "a@example.com", kind: "human" }, target: { app: "wiki", action: "read" } }).policy.revision).toBe("r1");
      } finally {
        await client.stop();
      }
    });
  });
});
