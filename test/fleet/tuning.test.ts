/**
 * Tuning data checked wherever a bundle becomes active. A bundle whose signature holds but whose
 * data.stepup.config breaks the config contract — thresholds and deny scores as strings (every
 * risk level then came out low, and a request the real bundle denies was allowed), weights as
 * strings (every decision failed closed) — is refused by `Stepup.load`, by `stepup bundle verify`
 * and by the bundle client, signed by stepup or by `opa build --signing-key` alike. A fleet of
 * bundle clients polling nginx (Debian's, started here) keeps deciding on its last-known-good
 * revision through two such releases, reporting each, and still takes the next good one.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { writeArchive, type BundleFiles } from "../../src/bundle/archive.js";
import { BundleVerifier } from "../../src/bundle/verify.js";
import type { Input } from "../../src/contracts/input.js";
import { BundleInvalidError } from "../../src/errors.js";
import { BundleClient } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios } from "../helpers.js";
import { keyPair, opaSign, readFiles, stepupSign, withRevision, writeFiles, type KeyPair } from "../support/bundles.js";
import { startNginx, type Running } from "../support/processes.js";
import { publishBytes, waitFor } from "../support/publish.js";

const CLIENTS = 10;
const TOKEN = "tuning-token-2b9e";
const BUNDLE = "stepup.tar.gz";

type Config = Record<string, Record<string, unknown>>;

/** The bundle's files with its tuning data changed by `change`, as revision `revision`, unsigned. */
function withTuning(files: BundleFiles, revision: string, change: (config: Config) => void): BundleFiles {
  const out = withRevision(files, revision);
  const data = JSON.parse(Buffer.from(out.get("data.json") as Uint8Array).toString("utf8")) as { stepup: { config: Config } };
  change(data.stepup.config);
  out.set("data.json", Buffer.from(JSON.stringify(data)));
  return out;
}

/** Thresholds and deny scores as strings, as a careless edit of data.json writes them. */
const stringThresholds = (config: Config) => {
  for (const tier of Object.keys(config.thresholds!)) {
    const t = config.thresholds![tier] as Record<string, number>;
    config.thresholds![tier] = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, String(v)]));
    config.deny_score![tier] = String(config.deny_score![tier]);
  }
};

/** Every weight as a string. */
const stringWeights = (config: Config) => {
  for (const [code, points] of Object.entries(config.weights!)) config.weights![code] = String(points);
};

let scratch: string;
let key: KeyPair;
let base: BundleFiles;
let verifier: () => BundleVerifier;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-tuning-"));
  key = await keyPair(scratch, "ES256", "fleet");
  base = await readFiles(inject("bundlePath"));
  verifier = () => new BundleVerifier({ keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } });
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("a signed bundle with broken tuning data", () => {
  for (const [name, change, field] of [
    ["thresholds and deny scores as strings", stringThresholds, /data\.stepup\.config\.thresholds\.\w+\.\w+: .*number/],
    ["weights as strings", stringWeights, /data\.stepup\.config\.weights\.[\w.]+: .*number/],
  ] as const) {
    it(`is refused by Stepup.load, naming the field, whoever signed it: ${name}`, async () => {
      const files = withTuning(base, "broken", change);
      const stepupSigned = await writeFiles(join(scratch, `stepup-${name.length}.tar.gz`), await stepupSign(files, key));
      const opaSigned = await opaSign(files, { ...key, id: "fleet" }, scratch);
      for (const path of [stepupSigned, opaSigned]) {
        const refused = await Stepup.load(path, { verification: { keys: { default: { key: key.publicPem, algorithm: "ES256" } }, keyId: "default" } }).catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(BundleInvalidError);
        expect((refused as Error).message).toMatch(field);
        expect((refused as Error).message).toMatch(/tuning data breaks the config contract/);
      }
    });

    it(`fails stepup bundle verify (exit 1, the field named), the gate for OPA's pipelines too: ${name}`, async () => {
      const files = withTuning(base, "broken", change);
      const opaSigned = await opaSign(files, key, scratch);
      const result = await runCli(["bundle", "verify", opaSigned, "--verification-key", key.publicPath, "--signing-alg", "ES256"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/ERR_BUNDLE_INVALID/);
      expect(result.stderr).toMatch(field);
      expect(result.stdout).toBe("");
    });
  }

  it("passes stepup bundle verify when signed by opa build --signing-key with sound data", async () => {
    const signed = await opaSign(withTuning(base, "sound", () => {}), key, scratch);
    const result = await runCli(["bundle", "verify", signed, "--verification-key", key.publicPath, "--signing-alg", "ES256"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/revision sound/);
  });
});

describe(`a fleet of ${CLIENTS} bundle clients through releases with broken tuning data`, () => {
  let served: string;
  let nginx: Running | undefined;
  let corpus: Input[];
  const members: { client: BundleClient; events: BundleEvent[]; revisions: string[] }[] = [];
  const failures: string[] = [];
  let load: NodeJS.Timeout | undefined;
  let decisions = 0;

  const publish = async (files: BundleFiles) => publishBytes(served, BUNDLE, writeArchive(await stepupSign(files, key)));

  beforeAll(async () => {
    served = join(scratch, "served");
    await mkdir(served);
    await mkdir(join(scratch, "nginx"));
    corpus = (await scenarios()).map((s) => s.input);
    await publish(withRevision(base, "r1"));
    nginx = await startNginx(served, TOKEN, join(scratch, "nginx"));
    for (let i = 0; i < CLIENTS; i++) {
      const events: BundleEvent[] = [];
      const client = await BundleClient.start(
        {
          url: `${nginx.url}/bundles/${BUNDLE}`,
          token: TOKEN,
          verification: { keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } },
          polling: { minDelayMs: 300, maxDelayMs: 600, retryBaseMs: 100 },
          persistDir: join(scratch, "clients", String(i)),
          startTimeoutMs: 5_000,
          requestTimeoutMs: 2_000,
        },
        { onEvent: (e) => events.push(e), onError: (error) => failures.push(`client ${i}: ${error.code}`) },
      );
      members.push({ client, events, revisions: [] });
    }
    let tick = 0;
    load = setInterval(() => {
      for (const [i, m] of members.entries()) {
        const decision = m.client.stepup.decide(corpus[(tick + i) % corpus.length] as unknown);
        if (decision.error) failures.push(`client ${i}: ${decision.error.code}`);
        if (m.revisions.at(-1) !== decision.policy.revision) m.revisions.push(decision.policy.revision);
        decisions++;
      }
      tick++;
    }, 20);
  }, 60_000);

  afterAll(async () => {
    if (load) clearInterval(load);
    await Promise.all(members.map((m) => m.client.stop()));
    await nginx?.stop();
  });

  const refusedSince = (since: number, revisionKept: string) => (m: (typeof members)[number]) =>
    m.events.slice(since).some(
      (e) =>
        e.type === "failed" &&
        e.stage === "verify" &&
        e.error.code === "ERR_BUNDLE_INVALID" &&
        /tuning data breaks the config contract: data\.stepup\.config\./.test(e.error.message) &&
        e.revision === revisionKept,
    );

  it("refuses each broken release everywhere, reporting it, and keeps deciding on the last-known-good revision", async () => {
    expect(members.map((m) => m.client.revision)).toEqual(Array(CLIENTS).fill("r1"));
    for (const [revision, change] of [
      ["r2", stringThresholds],
      ["r3", stringWeights],
    ] as const) {
      const seen = members.map((m) => m.events.length);
      await publish(withTuning(base, revision, change));
      await waitFor(`every client to refuse ${revision}`, () => members.every((m, i) => refusedSince(seen[i]!, "r1")(m)), 10_000);
      const before = decisions;
      await waitFor("more decisions", () => decisions > before + 5 * CLIENTS, 5_000);
      expect(members.map((m) => m.client.revision)).toEqual(Array(CLIENTS).fill("r1"));
    }
    // Each decision on the revision kept is the one the bundle gives: the scenarios' expectations hold.
    const stepup = members[0]!.client.stepup;
    for (const [i, scenario] of (await scenarios()).entries()) {
      expect(stepup.decide(scenario.input).outcome, scenario.name).toBe(scenario.expect.outcome);
      if (i > 5) break;
    }
  });

  it("takes the next sound release, and never decided on a broken one nor failed a decision", async () => {
    await publish(withRevision(base, "r4"));
    await waitFor("every client on r4", () => members.every((m) => m.client.revision === "r4"), 10_000);
    await waitFor("a decision on r4 everywhere", () => members.every((m) => m.revisions.at(-1) === "r4"), 5_000);
    if (load) clearInterval(load);
    expect(failures).toEqual([]);
    for (const m of members) expect(m.revisions).toEqual(["r1", "r4"]);
  });
});
