/**
 * A fleet: nginx (Debian's package, started here) serves signed bundles; 50 SDK bundle clients
 * and one OPA sidecar (the pinned OPA as a plain `opa run --server` process) poll it while a
 * steady load of decisions runs on all of them. A new revision converges everywhere within one
 * polling interval plus a small slack; a tampered revision is refused everywhere and every client
 * reports it; with nginx stopped, everyone keeps deciding on the last-known-good bundle, also
 * after a restart. No decision fails during any of it. Bounded: about twenty seconds, loopback only.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import axios from "axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { BundleFiles } from "../../src/bundle/archive.js";
import { BundleClient } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import type { BundleClientConfig } from "../../src/contracts/bundle-client.js";
import type { Input } from "../../src/contracts/input.js";
import { scenarios } from "../helpers.js";
import { TAMPERINGS, keyPair, readFiles, type KeyPair } from "../support/bundles.js";
import { startNginx, startOpa, type Running } from "../support/processes.js";
import { publishRevision, waitFor } from "../support/publish.js";

const CLIENTS = 50;
/** The longest polling delay, for the SDK clients and OPA alike (OPA counts in whole seconds). */
const INTERVAL_MS = 1_000;
/** What convergence may take beyond one interval: a download, a verification, a wasm compile, on a busy machine. */
const SLACK_MS = 2_500;
const TOKEN = "fleet-token-5f0a";
const BUNDLE = "stepup.tar.gz";

interface Member {
  client: BundleClient;
  readonly events: { at: number; event: BundleEvent }[];
  /** Revisions in the order decisions carried them, consecutive repeats folded. */
  readonly revisions: string[];
  decisions: number;
}

let scratch: string;
let served: string;
let key: KeyPair;
let base: BundleFiles;
let corpus: Input[];
let nginx: (Running & { accessLog(): Promise<string> }) | undefined;
let opa: Running | undefined;
let opaConfig: string;
const fleet: Member[] = [];
const failures: string[] = [];
const opaLoad = { paused: false, decisions: 0, revisions: [] as string[], firstSeen: new Map<string, number>() };
let load: NodeJS.Timeout | undefined;
let opaLoop: Promise<void> | undefined;
let stopping = false;

function clientConfig(i: number): BundleClientConfig {
  return {
    url: `${nginx?.url}/bundles/${BUNDLE}`,
    token: TOKEN,
    verification: { keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } },
    polling: { minDelayMs: INTERVAL_MS / 2, maxDelayMs: INTERVAL_MS, retryBaseMs: 100 },
    persistDir: join(scratch, "clients", String(i)),
    startTimeoutMs: 5_000,
    requestTimeoutMs: 2_000,
  };
}

async function startMember(i: number, member?: Member): Promise<Member> {
  const events = member?.events ?? [];
  const client = await BundleClient.start(clientConfig(i), {
    onEvent: (event) => events.push({ at: Date.now(), event }),
    onError: (error) => failures.push(`client ${i}: ${error.code}`),
  });
  if (member) {
    member.client = client;
    return member;
  }
  return { client, events, revisions: [], decisions: 0 };
}

/** One decision on every tenth client per tick, rotating: a steady ~400 decisions a second across the fleet. */
function startLoad() {
  let tick = 0;
  load = setInterval(() => {
    for (let i = tick % 10; i < fleet.length; i += 10) {
      const member = fleet[i] as Member;
      try {
        const decision = member.client.stepup.decideInput(corpus[(tick + i) % corpus.length] as Input);
        if (decision.error) failures.push(`client ${i}: ${decision.error.code}`);
        if (member.revisions.at(-1) !== decision.policy.revision) member.revisions.push(decision.policy.revision);
        member.decisions++;
      } catch (err) {
        failures.push(`client ${i}: threw ${String(err)}`);
      }
    }
    tick++;
  }, 25);
  opaLoop = (async () => {
    while (!stopping) {
      if (!opaLoad.paused && opa) await opaDecision(corpus[opaLoad.decisions % corpus.length] as Input);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
}

async function opaDecision(input: Input): Promise<void> {
  try {
    const response = await axios.post(`${opa?.url}/v1/data/stepup/decision?provenance=true`, { input }, { timeout: 5_000 });
    const revision = response.data?.provenance?.bundles?.stepup?.revision as string | undefined;
    if (!response.data?.result?.outcome || !revision) failures.push(`opa: no decision (${JSON.stringify(response.data).slice(0, 200)})`);
    else {
      if (opaLoad.revisions.at(-1) !== revision) opaLoad.revisions.push(revision);
      if (!opaLoad.firstSeen.has(revision)) opaLoad.firstSeen.set(revision, Date.now());
    }
    opaLoad.decisions++;
  } catch (err) {
    failures.push(`opa: ${(err as Error).message}`);
  }
}

const opaRevision = async () =>
  (await axios.post(`${opa?.url}/v1/data/stepup/decision?provenance=true`, { input: corpus[0] })).data.provenance.bundles.stepup
    ?.revision as string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-fleet-"));
  served = join(scratch, "served");
  await mkdir(served);
  await mkdir(join(scratch, "nginx"));
  key = await keyPair(scratch, "ES256", "fleet");
  base = await readFiles(inject("bundlePath"));
  corpus = (await scenarios()).map((s) => s.input);
  await publishRevision(served, BUNDLE, base, "r1", key);
  nginx = await startNginx(served, TOKEN, join(scratch, "nginx"));
  opaConfig = `
services:
  nginx:
    url: ${nginx.url}/bundles
    credentials:
      bearer:
        token: ${TOKEN}
bundles:
  stepup:
    service: nginx
    resource: ${BUNDLE}
    persist: true
    polling:
      min_delay_seconds: ${INTERVAL_MS / 1000}
      max_delay_seconds: ${INTERVAL_MS / 1000}
    signing:
      keyid: fleet
keys:
  fleet:
    algorithm: ES256
    key: |
${key.publicPem
  .trim()
  .split("\n")
  .map((line) => `      ${line}`)
  .join("\n")}
persistence_directory: ${join(scratch, "opa-persist")}
`;
  opa = await startOpa(opaConfig, scratch);
});

afterAll(async () => {
  stopping = true;
  if (load) clearInterval(load);
  await opaLoop;
  await Promise.all(fleet.map((m) => m.client.stop()));
  await opa?.stop();
  await nginx?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe(`a fleet of ${CLIENTS} SDK clients and one OPA polling nginx`, () => {
  it("starts everywhere on the first revision and takes a steady load of decisions", async () => {
    for (let i = 0; i < CLIENTS; i++) fleet.push(await startMember(i));
    expect(fleet.map((m) => m.client.revision)).toEqual(Array(CLIENTS).fill("r1"));
    await waitFor("OPA on r1", async () => (await opaRevision().catch(() => undefined)) === "r1", 10_000);
    startLoad();
    await waitFor("decisions everywhere", () => fleet.every((m) => m.decisions > 0) && opaLoad.decisions > 0, 5_000);
  });

  it("converges on a new revision within one polling interval plus a small slack", async () => {
    await publishRevision(served, BUNDLE, base, "r2", key);
    const published = Date.now();
    await waitFor("every client on r2", () => fleet.every((m) => m.client.revision === "r2"), INTERVAL_MS + SLACK_MS);
    await waitFor("OPA on r2", () => opaLoad.firstSeen.has("r2"), INTERVAL_MS + SLACK_MS);
    const clientLag = Math.max(...fleet.map((m) => (m.events.find((e) => e.event.type === "activated" && e.event.revision === "r2")?.at ?? Infinity) - published));
    const opaLag = (opaLoad.firstSeen.get("r2") as number) - published;
    console.info(`fleet convergence after publishing r2: slowest SDK client ${clientLag} ms, OPA ${opaLag} ms (bound ${INTERVAL_MS + SLACK_MS} ms)`);
    expect(clientLag).toBeLessThanOrEqual(INTERVAL_MS + SLACK_MS);
  });

  it("refuses a tampered revision everywhere: every client reports it and keeps the previous one", async () => {
    const tamper = TAMPERINGS.find((t) => t.name === "changed data")?.apply;
    const published = Date.now();
    await publishRevision(served, BUNDLE, base, "r3", key, tamper);
    const refused = (m: Member) =>
      m.events.some((e) => e.at >= published && e.event.type === "failed" && e.event.stage === "verify" && e.event.error.code === "ERR_BUNDLE_SIGNATURE");
    await waitFor("every client to report the tampered bundle", () => fleet.every(refused), INTERVAL_MS + SLACK_MS);
    await waitFor("OPA to log the refusal", () => /digest mismatch/.test(opa?.output() ?? ""), INTERVAL_MS + SLACK_MS);
    expect(fleet.map((m) => m.client.revision)).toEqual(Array(CLIENTS).fill("r2"));
    expect(await opaRevision()).toBe("r2");
    expect(opaLoad.firstSeen.has("r3")).toBe(false);
  });

  it("keeps deciding on the last-known-good bundle with nginx stopped, also after restarting every client and OPA", async () => {
    const log = await nginx?.accessLog();
    expect(log).toMatch(/^304 GET \/bundles\/stepup\.tar\.gz inm="[^"]+"$/m);
    await nginx?.stop();
    const stopped = Date.now();
    const cutOff = (m: Member) => m.events.some((e) => e.at >= stopped && e.event.type === "failed" && e.event.error.code === "ERR_BUNDLE_DOWNLOAD");
    await waitFor("every client to report the unreachable server", () => fleet.every(cutOff), INTERVAL_MS + SLACK_MS);
    expect(fleet.map((m) => m.client.revision)).toEqual(Array(CLIENTS).fill("r2"));

    // Restart every client: each comes back from its own folder, on the revision it last verified.
    const restarted = Date.now();
    for (const [i, member] of fleet.entries()) {
      const old = member.client;
      await old.stop();
      await startMember(i, member);
    }
    for (const member of fleet) {
      const back = member.events.find((e) => e.at >= restarted && e.event.type === "activated");
      expect(back?.event).toMatchObject({ type: "activated", source: "disk", revision: "r2" });
      expect(member.client.revision).toBe("r2");
    }

    // Restart OPA: it loads the bundle it persisted, as OPA's own last-known-good.
    opaLoad.paused = true;
    await opa?.stop();
    opa = await startOpa(opaConfig, scratch);
    await waitFor("OPA back on r2 from disk", async () => (await opaRevision().catch(() => undefined)) === "r2", 10_000);
    opaLoad.paused = false;
    const before = fleet.reduce((sum, m) => sum + m.decisions, 0);
    const opaBefore = opaLoad.decisions;
    await waitFor("more decisions after the restarts", () => fleet.reduce((s, m) => s + m.decisions, 0) > before + CLIENTS && opaLoad.decisions > opaBefore + 5, 5_000);
  });

  it("failed no decision during any of it, and each saw only r1 then r2", () => {
    stopping = true;
    if (load) clearInterval(load);
    expect(failures).toEqual([]);
    for (const [i, member] of fleet.entries()) expect(member.revisions, `client ${i}`).toEqual(["r1", "r2"]);
    expect(opaLoad.revisions).toEqual(["r1", "r2"]);
    const total = fleet.reduce((sum, m) => sum + m.decisions, 0);
    console.info(`fleet decisions: ${total} on the SDK clients, ${opaLoad.decisions} on OPA, none failed`);
  });
});
