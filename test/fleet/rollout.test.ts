/**
 * A report-only rollout across a fleet: `stepup rollout` switches a channel folder served by a
 * real bundle server (ETags, long polling) on loopback, and a bundle client following both the
 * active and the candidate channel, with signatures verified, holds the candidate beside the
 * active bundle, sees the promotion and the rollback, and ends report-only mode when the
 * candidate is withdrawn. A candidate that does not verify is reported on its channel and changes
 * nothing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { writeArchive } from "../../src/bundle/archive.js";
import type { RolloutRecord } from "../../src/contracts/decision-log.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import { ReleaseChannels } from "../../src/fleet/channels.js";
import { BundleClient } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";
import { runCli, scenarios } from "../helpers.js";
import { TAMPERINGS, keyPair, readFiles, stepupSign, withRevision, type KeyPair } from "../support/bundles.js";
import { publishBytes, waitFor } from "../support/publish.js";

describe("stepup rollout on a channel folder, followed by a bundle client", () => {
  let dir: string;
  let channels: string;
  let server: BundleServer;
  let key: KeyPair;
  let client: BundleClient | undefined;
  const paths: Record<string, string> = {};
  const events: BundleEvent[] = [];
  const rollouts: RolloutRecord[] = [];
  const decisions: DecisionEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-rollout-"));
    channels = join(dir, "channels");
    key = await keyPair(dir, "ES256", "prod");
    const base = await readFiles(inject("bundlePath"));
    for (const revision of ["r1", "r2"]) {
      paths[revision] = join(dir, `${revision}.tar.gz`);
      await writeFile(paths[revision], writeArchive(await stepupSign(withRevision(base, revision), key)));
    }
    server = await serveBundles({ dir: channels, maxWaitSeconds: 2, watchIntervalMs: 25 });
  });
  afterAll(async () => {
    await client?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(["rollout", ...args, "--dir", channels, "--by", "release-bot"]);

  it("publishes the first bundle as active, and refuses to promote or roll back with nothing to switch to", async () => {
    const first = await cli("publish", paths.r1!);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/promoted r1 \(by release-bot\)/);
    const promote = await cli("promote");
    expect(promote.code).toBe(1);
    expect(promote.stderr).toContain("ERR_ROLLOUT_INVALID: cannot promote: no candidate is published");
    expect((await cli("rollback")).stderr).toContain("ERR_ROLLOUT_INVALID: cannot roll back: no previous bundle is kept");
  });

  it("holds a published candidate beside the active bundle in every client following the channels", async () => {
    client = await BundleClient.start(
      {
        url: `${server.url}/active/stepup.tar.gz`,
        candidateUrl: `${server.url}/candidate/stepup.tar.gz`,
        verification: { keys: { prod: { key: key.publicPem, algorithm: "ES256" } } },
        polling: { minDelayMs: 50, maxDelayMs: 100, retryBaseMs: 50, longPollingTimeoutSeconds: 1 },
      },
      { onEvent: (e) => events.push(e), onRollout: (r) => rollouts.push(r), onDecision: (e) => decisions.push(e), onError: () => {} },
    );
    expect(client.revision).toBe("r1");
    await waitFor("the client to look at the candidate channel", () => client!.stepup.candidate === undefined && events.length > 0, 5_000);
    expect((await cli("publish", paths.r2!)).stdout).toMatch(/published candidate r2 beside r1/);
    await waitFor("the candidate r2", () => client!.stepup.candidate?.revision === "r2", 10_000);
    expect(events.find((e) => e.type === "activated" && e.channel === "candidate")).toMatchObject({ revision: "r2", keyId: "prod" });
    expect(client.status()).toMatchObject({ revision: "r1", candidate: "r2" });
    const input = (await scenarios())[0]!.input;
    client.stepup.decide(input);
    await client.stepup.settled();
    expect(decisions.at(-1)).toMatchObject({ decision: { policy: { revision: "r1" } }, shadow: { revision: "r2" } });
  });

  it("reports a candidate that does not verify on its channel, and keeps what it held", async () => {
    const channel = new ReleaseChannels(channels);
    // Signed, then its data changed: the signature no longer covers the files.
    const signed = await stepupSign(withRevision(await readFiles(paths.r2!), "r3"), key);
    const tamper = TAMPERINGS.find((t) => t.name === "changed data")!;
    await publishBytes(join(channels, "candidate"), "stepup.tar.gz", writeArchive(tamper.apply(signed)));
    await waitFor("the candidate's failure", () => events.some((e) => e.type === "failed" && e.channel === "candidate"), 10_000);
    const failure = events.find((e) => e.type === "failed" && e.channel === "candidate");
    expect(failure).toMatchObject({ stage: "verify", error: { code: "ERR_BUNDLE_SIGNATURE" }, revision: "r1" });
    expect(client!.revision).toBe("r1");
    expect(client!.stepup.candidate?.revision).toBe("r2");
    await cli("publish", paths.r2!);
  });

  it("promotes fleet-wide in one command: the client switches to the candidate, and logs the promotion", async () => {
    const promoted = await cli("promote");
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/promoted r2 over r1 \(by release-bot\)/);
    await waitFor("the promotion", () => client!.revision === "r2", 10_000);
    // The client's SDK promoted the candidate it held (its compiled engine), and recorded it.
    expect(rollouts.at(-1)).toMatchObject({ action: "promoted", active: "r2", previous: "r1" });
    await waitFor("report-only mode to end", () => client!.stepup.candidate === undefined, 10_000);
    const status = await runCli(["rollout", "status", "--dir", channels]);
    expect(status.stdout).toMatch(/^active {5}r2\ncandidate {2}\(none\)\nprevious {3}r1\n/);
  });

  it("rolls back in one command: the previous bundle is active again, the demoted one a candidate", async () => {
    const rolled = await cli("rollback");
    expect(rolled.code, rolled.stderr).toBe(0);
    await waitFor("the rollback", () => client!.revision === "r1", 10_000);
    expect(rollouts.at(-1)).toMatchObject({ action: "rolled_back", active: "r1", candidate: "r2" });
    await waitFor("the demoted candidate", () => client!.stepup.candidate?.revision === "r2", 10_000);
    expect((await cli("withdraw")).code).toBe(0);
    await waitFor("report-only mode to end", () => client!.stepup.candidate === undefined, 10_000);
    const history = await new ReleaseChannels(channels).history();
    expect(history.map((r) => [r.action, r.active, r.by])).toEqual([
      ["promoted", "r1", "release-bot"],
      ["candidate_set", "r1", "release-bot"],
      ["candidate_set", "r1", "release-bot"],
      ["promoted", "r2", "release-bot"],
      ["rolled_back", "r1", "release-bot"],
      ["candidate_cleared", "r1", "release-bot"],
    ]);
  });
});
