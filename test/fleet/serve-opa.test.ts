/**
 * OPA's own bundle plugin against `stepup bundle serve`: it authenticates with a bearer token,
 * verifies the signature, and, seeing OPA's content type, switches to long polling, so a new
 * revision reaches it long before its one-minute polling interval would.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import axios from "axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";
import { keyPair, readFiles } from "../support/bundles.js";
import { startOpa, type Running } from "../support/processes.js";
import { publishRevision, waitFor } from "../support/publish.js";

const TOKEN = "opa-token-31c9";
let scratch: string;
let server: BundleServer | undefined;
let opa: Running | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-serve-opa-"));
  await mkdir(join(scratch, "served"));
});

afterAll(async () => {
  await opa?.stop();
  await server?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("OPA polling stepup bundle serve", () => {
  it("verifies the signed bundle and gets a new revision by long polling", async () => {
    const served = join(scratch, "served");
    const key = await keyPair(scratch, "RS256", "release");
    const base = await readFiles(inject("bundlePath"));
    await publishRevision(served, "stepup.tar.gz", base, "r1", key);
    server = await serveBundles({ dir: served, token: TOKEN, watchIntervalMs: 50 });
    const pem = key.publicPem.trim().split("\n").map((line) => `      ${line}`).join("\n");
    opa = await startOpa(
      `
services:
  dev:
    url: ${server.url}
    credentials:
      bearer:
        token: ${TOKEN}
bundles:
  stepup:
    service: dev
    resource: stepup.tar.gz
    polling:
      min_delay_seconds: 60
      max_delay_seconds: 60
      long_polling_timeout_seconds: 30
    signing:
      keyid: release
keys:
  release:
    algorithm: RS256
    key: |
${pem}
`,
      scratch,
    );
    const revision = async () =>
      (await axios.get(`${opa?.url}/v1/data/system/bundles/stepup/manifest/revision`).catch(() => undefined))?.data?.result;
    await waitFor("OPA on r1", async () => (await revision()) === "r1", 15_000);
    // OPA's next request is a long poll: publish while it is held.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await publishRevision(served, "stepup.tar.gz", base, "r2", key);
    // Its polling interval is a minute: only long polling brings r2 within these 15 seconds.
    await waitFor("OPA on r2", async () => (await revision()) === "r2", 15_000);
    expect(opa.output()).not.toMatch(/"level":"error"/);
  });
});
