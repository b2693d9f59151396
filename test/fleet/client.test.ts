/**
 * The SDK's bundle client against `stepup bundle serve` (the real server, on a loopback port):
 * start, long polling and plain polling, verification before activation, the last-known-good
 * copy on disk, bearer tokens, size limits, hostile archives, and its configuration errors.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { BundleFiles } from "../../src/bundle/archive.js";
import { backoffDelay, pollingDelay } from "../../src/fleet/backoff.js";
import { BundleClient, type BundleClientOptions } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";
import type { BundleClientConfig } from "../../src/contracts/bundle-client.js";
import { BundleUnavailableError, ConfigInvalidError } from "../../src/errors.js";
import { parseInput } from "../../src/input/validate.js";
import { TAMPERINGS, keyPair, readFiles, type KeyPair } from "../support/bundles.js";
import { closedPort } from "../support/ports.js";
import { rawArchive } from "../support/hostile.js";
import { publishBytes, publishRevision, waitFor } from "../support/publish.js";

const TOKEN = "test-token-7c1d";
const input = parseInput({
  now: 1795852800,
  subject: { id: "alice@example.com", kind: "human" },
  session: { acr: "phr", amr: ["hwk"], auth_time: 1795851600 },
  target: { app: "wiki", action: "read" },
});

let scratch: string;
let served: string;
let server: BundleServer;
let base: BundleFiles;
let key: KeyPair;
let otherKey: KeyPair;
const running: BundleClient[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-client-"));
  served = join(scratch, "served");
  await mkdir(served);
  base = await readFiles(inject("bundlePath"));
  key = await keyPair(scratch, "ES256", "fleet");
  otherKey = await keyPair(scratch, "ES256", "intruder");
  server = await serveBundles({ dir: served, token: TOKEN, maxWaitSeconds: 10, watchIntervalMs: 50 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

let n = 0;
/** A fresh bundle name and persist folder for one test. */
function fresh() {
  n++;
  return { name: `b${n}.tar.gz`, persistDir: join(scratch, `persist-${n}`) };
}

async function start(config: Partial<BundleClientConfig> & { url: string }, options: BundleClientOptions = {}) {
  const events: BundleEvent[] = [];
  const client = await BundleClient.start(
    {
      token: TOKEN,
      verification: { keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } },
      polling: { minDelayMs: 100, maxDelayMs: 200, retryBaseMs: 50 },
      startTimeoutMs: 2_000,
      ...config,
    },
    { onEvent: (e) => events.push(e), onError: () => {}, ...options },
  );
  running.push(client);
  return { client, events };
}

const failures = (events: BundleEvent[]) => events.filter((e) => e.type === "failed");

describe("the bundle client", () => {
  it("starts on the served bundle, decides with its revision, and keeps the archive on disk", async () => {
    const { name, persistDir } = fresh();
    const bytes = await publishRevision(served, name, base, "r1", key);
    const { client, events } = await start({ url: `${server.url}/${name}`, persistDir });
    expect(client.revision).toBe("r1");
    expect(client.stepup.decide(input).policy.revision).toBe("r1");
    expect(events).toEqual([expect.objectContaining({ type: "activated", revision: "r1", source: "server", keyId: "fleet" })]);
    expect(client.status()).toMatchObject({ revision: "r1", longPolling: true, consecutiveFailures: 0 });
    expect(client.status().etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await readdir(persistDir)).sort()).toEqual(["bundle.json", "bundle.tar.gz"]);
    expect(Buffer.from(await readFile(join(persistDir, "bundle.tar.gz"))).equals(Buffer.from(bytes))).toBe(true);
  });

  it("gets a new revision by long polling, well before its polling interval would", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const polling = { minDelayMs: 60_000, maxDelayMs: 60_000, retryBaseMs: 50, longPollingTimeoutSeconds: 10 };
    const { client } = await start({ url: `${server.url}/${name}`, polling });
    // The first answer advertised long polling; the next request is already held by the server.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await publishRevision(served, name, base, "r2", key);
    await waitFor("r2 via long polling", () => client.revision === "r2", 8_000);
  });

  it("gets a new revision by plain polling, and refuses a tampered one while keeping the last good", async () => {
    const { name, persistDir } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const { client, events } = await start({ url: `${server.url}/${name}`, persistDir });
    const good = await publishRevision(served, name, base, "r2", key);
    await waitFor("r2", () => client.revision === "r2", 5_000);
    expect(events.map((e) => e.type === "activated" && `${e.previous}→${e.revision}`)).toEqual(["undefined→r1", "r1→r2"]);

    const changedData = TAMPERINGS.find((t) => t.name === "changed data")?.apply;
    const tampered = await publishRevision(served, name, base, "r3", key, changedData);
    await waitFor("a failure", () => failures(events).length > 0, 5_000);
    const [failure] = failures(events);
    expect(failure).toMatchObject({ type: "failed", stage: "verify", revision: "r2" });
    expect(failure?.type === "failed" && failure.error.code).toBe("ERR_BUNDLE_SIGNATURE");
    expect(client.revision).toBe("r2");
    expect(client.stepup.decide(input).policy.revision).toBe("r2");
    // The copy on disk is still the last good one, not the tampered download.
    const saved = await readFile(join(persistDir, "bundle.tar.gz"));
    expect(saved.equals(Buffer.from(good))).toBe(true);
    expect(saved.equals(Buffer.from(tampered))).toBe(false);
  });

  it("starts from the last-known-good bundle when the server cannot be reached", async () => {
    const { name, persistDir } = fresh();
    await publishRevision(served, name, base, "r1", key);
    (await start({ url: `${server.url}/${name}`, persistDir })).client.stop();
    const down = `http://127.0.0.1:${await closedPort()}/unreachable.tar.gz`;
    const { client, events } = await start({ url: down, persistDir });
    expect(client.revision).toBe("r1");
    expect(client.stepup.decide(input).policy.revision).toBe("r1");
    expect(events[0]).toMatchObject({ type: "failed", stage: "download" });
    expect(events[0]?.type === "failed" && events[0].error.code).toBe("ERR_BUNDLE_DOWNLOAD");
    expect(events[1]).toMatchObject({ type: "activated", revision: "r1", source: "disk" });
  });

  it("sends the saved bundle's ETag at start and keeps it on 304, or takes the newer one", async () => {
    const { name, persistDir } = fresh();
    await publishRevision(served, name, base, "r1", key);
    (await start({ url: `${server.url}/${name}`, persistDir })).client.stop();
    const again = await start({ url: `${server.url}/${name}`, persistDir });
    expect(again.events).toEqual([expect.objectContaining({ type: "activated", revision: "r1", source: "disk" })]);
    // The 304 carried OPA's content type: long polling is known to be on offer without a new download.
    expect(again.client.status().longPolling).toBe(true);
    await again.client.stop();
    await publishRevision(served, name, base, "r2", key);
    const newer = await start({ url: `${server.url}/${name}`, persistDir });
    expect(newer.events).toEqual([expect.objectContaining({ type: "activated", revision: "r2", source: "server" })]);
  });

  it("verifies the saved bundle again at start and refuses one that no longer verifies", async () => {
    const { name, persistDir } = fresh();
    await publishRevision(served, name, base, "r1", key);
    (await start({ url: `${server.url}/${name}`, persistDir })).client.stop();
    // The verification key was rotated: the saved copy is signed with a key no longer trusted.
    const rotated = { keys: { fleet: { key: otherKey.publicPem, algorithm: "ES256" as const } } };
    const events: BundleEvent[] = [];
    const err = await BundleClient.start(
      { url: `http://127.0.0.1:${await closedPort()}/x.tar.gz`, verification: rotated, persistDir, startTimeoutMs: 300 },
      { onEvent: (e) => events.push(e) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleUnavailableError);
    expect(events[0]).toMatchObject({ type: "failed", stage: "restore" });
    expect(events[0]?.type === "failed" && events[0].error.code).toBe("ERR_BUNDLE_SIGNATURE");
  });

  it("sends its bearer token, and reports a refusal without ever showing the token", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const events: BundleEvent[] = [];
    const err = await BundleClient.start(
      {
        url: `${server.url}/${name}?sig=secret-query`,
        token: "wrong-token-b9e2",
        verification: { keys: { fleet: { key: key.publicPem, algorithm: "ES256" } } },
        startTimeoutMs: 300,
        polling: { minDelayMs: 100, maxDelayMs: 100, retryBaseMs: 50 },
      },
      { onEvent: (e) => events.push(e) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleUnavailableError);
    const failure = failures(events)[0];
    expect(failure?.type === "failed" && failure.error).toMatchObject({ code: "ERR_BUNDLE_DOWNLOAD", status: 401 });
    const shown = JSON.stringify({ events: events.map((e) => (e.type === "failed" ? e.error.message : e)), err: (err as Error).message });
    expect(shown).not.toContain("wrong-token-b9e2");
    expect(shown).not.toContain("secret-query");
  });

  it("refuses a download larger than its limit, an unsigned bundle and a hostile archive, saving none", async () => {
    const { name, persistDir } = fresh();
    const good = await publishRevision(served, name, base, "r1", key);
    const { client, events } = await start({ url: `${server.url}/${name}`, persistDir, limits: { maxCompressedBytes: good.byteLength + 10 } });

    const big = Buffer.concat([Buffer.from(good), Buffer.alloc(good.byteLength)]);
    await publishBytes(served, name, big);
    await waitFor("too large", () => failures(events).some((e) => e.type === "failed" && e.error.code === "ERR_BUNDLE_TOO_LARGE"), 5_000);
    await publishRevision(served, name, base, "unsigned");
    await waitFor("unsigned", () => failures(events).some((e) => e.type === "failed" && /no \.signatures\.json/.test(e.error.message)), 5_000);
    await publishBytes(served, name, rawArchive([{ path: "../../escaped.rego", body: "package x" }]));
    await waitFor("unsafe", () => failures(events).some((e) => e.type === "failed" && e.error.code === "ERR_BUNDLE_UNSAFE"), 5_000);

    expect(client.revision).toBe("r1");
    expect((await readdir(persistDir)).sort()).toEqual(["bundle.json", "bundle.tar.gz"]);
    expect((await readFile(join(persistDir, "bundle.tar.gz"))).equals(Buffer.from(good))).toBe(true);
    expect((await readdir(scratch)).filter((f) => f.includes("escaped"))).toEqual([]);
  });

  it("accepts unsigned bundles only when told to", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "dev");
    const err = await BundleClient.start({ url: `${server.url}/${name}`, token: TOKEN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as ConfigInvalidError).issues[0]?.path).toBe("verification");
    const { client } = await start({ url: `${server.url}/${name}`, verification: undefined, allowUnsigned: true });
    expect(client.revision).toBe("dev");
  });

  it("names the field of a bad configuration", async () => {
    const bad = { url: "ftp://example.test/b.tar.gz", allowUnsigned: true, polling: { minDelayMs: 500, maxDelayMs: 100 } };
    const err = (await BundleClient.start(bad).catch((e: unknown) => e)) as ConfigInvalidError;
    expect(err.code).toBe("ERR_CONFIG_INVALID");
    expect(err.issues.map((i) => i.path).sort()).toEqual(["polling.maxDelayMs", "url"]);
  });

  it("stops promptly, cancelling a long poll in flight", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const polling = { minDelayMs: 60_000, maxDelayMs: 60_000, retryBaseMs: 50, longPollingTimeoutSeconds: 10 };
    const { client } = await start({ url: `${server.url}/${name}`, polling });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const began = Date.now();
    await client.stop();
    expect(Date.now() - began).toBeLessThan(5_000);
  });
});

describe("delays", () => {
  const fixed = (v: number) => () => v;

  it("grow by 1.6 from the base after each failure, move by at most ±20%, and stop at the maximum", () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    expect(backoffDelay(0, options)).toBe(0);
    expect(backoffDelay(1, options, fixed(0.5))).toBeCloseTo(100);
    expect(backoffDelay(2, options, fixed(0.5))).toBeCloseTo(160);
    expect(backoffDelay(3, options, fixed(0.5))).toBeCloseTo(256);
    expect(backoffDelay(1, options, fixed(0))).toBeCloseTo(80);
    expect(backoffDelay(1, options, fixed(1))).toBeCloseTo(120);
    expect(backoffDelay(50, options, fixed(1))).toBe(1_000);
  });

  it("spread polls between the minimum and the maximum", () => {
    expect(pollingDelay(1_000, 2_000, fixed(0))).toBe(1_000);
    expect(pollingDelay(1_000, 2_000, fixed(0.999))).toBeCloseTo(1_999);
  });
});

describe("stepup bundle serve", () => {
  it("answers 200 with an ETag and OPA's long-polling content type, 304 for a matching If-None-Match, 401 without the token", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const url = `${server.url}/${name}`;
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const first = await fetch(url, { headers: auth });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("application/vnd.openpolicyagent.bundles");
    const etag = first.headers.get("etag") as string;
    expect((await fetch(url, { headers: { ...auth, "If-None-Match": etag } })).status).toBe(304);
    expect((await fetch(url)).status).toBe(401);
    // An encoded "../" survives URL normalisation and reaches the server, which refuses it.
    expect((await fetch(`${server.url}/%2E%2E%2Fserved%2F${name}`, { headers: auth })).status).toBe(404);
    // Only bundles are served, whatever else lies in the folder.
    await writeFile(join(served, "signing.key.pem"), "not for anyone");
    expect((await fetch(`${server.url}/signing.key.pem`, { headers: auth })).status).toBe(404);
  });

  it("holds a long poll until the bundle changes, or answers 304 when the wait ends", async () => {
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const url = `${server.url}/${name}`;
    const etag = (await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } })).headers.get("etag") as string;
    const headers = { Authorization: `Bearer ${TOKEN}`, "If-None-Match": etag, Prefer: "modes=snapshot;wait=1" };
    const unchanged = await fetch(url, { headers });
    expect(unchanged.status).toBe(304);
    const held = fetch(url, { headers: { ...headers, Prefer: "modes=snapshot;wait=10" } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await publishRevision(served, name, base, "r2", key);
    const changed = await held;
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("runs from the CLI on a free port and serves the folder", async () => {
    const { runCliServer } = await import("../support/cli-server.js");
    const { name } = fresh();
    await publishRevision(served, name, base, "r1", key);
    const tokenFile = join(scratch, "token");
    await writeFile(tokenFile, `${TOKEN}\n`);
    const cli = await runCliServer(["bundle", "serve", served, "--port", "0", "--token-file", tokenFile]);
    try {
      const { client } = await start({ url: `${cli.url}/${name}` });
      expect(client.revision).toBe("r1");
    } finally {
      await cli.stop();
    }
  });
});
