/**
 * `stepup envoy serve` as a fleet runs it: the bundle polled from a URL (signed, verified with the
 * configured key), decision logs to a file, Prometheus metrics on a port. Check requests go over
 * gRPC without pause while the served revision changes; none fails, the answers stay the same, the
 * log holds every decision under the revision that made it, and the metrics count them. With TLS
 * and a client CA, only a client presenting a certificate from that CA is answered.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";
import { fromOutcome } from "../support/envoy/answers.js";
import { makeEdge, protoObject, type Edge } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { freePort } from "../support/ports.js";
import { keyPair, readFiles, stepupSign, withRevision, writeFiles, type KeyPair } from "../support/bundles.js";

let edge: Edge;
let dir: string;
let served: string;
let key: KeyPair;
let bundles: BundleServer;

/** Puts a signed copy of the test bundle under `revision` at the served path, in one rename. */
async function publish(revision: string): Promise<void> {
  const files = await stepupSign(withRevision(await readFiles(inject("bundlePath")), revision), key);
  await writeFiles(join(dir, `${revision}.staged`), files);
  await rename(join(dir, `${revision}.staged`), join(served, "stepup.tar.gz"));
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

beforeAll(async () => {
  edge = await makeEdge();
  dir = await mkdtemp(join(tmpdir(), "stepup-serve-fleet-"));
  served = join(dir, "served");
  await mkdir(served);
  key = await keyPair(dir, "ES256", "fleet");
  await publish("fleet-1");
  bundles = await serveBundles({ dir: served, host: "127.0.0.1", port: 0, maxWaitSeconds: 1, watchIntervalMs: 50 });
});

afterAll(async () => {
  await bundles?.close();
  await edge?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("stepup envoy serve for a fleet", () => {
  it("polls a signed bundle, logs, exposes metrics, and swaps revisions without a failed Check", async () => {
    const settings = join(dir, "settings.json");
    await writeFile(settings, JSON.stringify(edge.settings));
    const log = join(dir, "decisions.ndjson");
    const [port, metricsPort] = [await freePort(), await freePort()];
    // Half from a config file, half from flags: the file's keys are the flags' long names.
    const config = join(dir, "serve.json");
    await writeFile(config, JSON.stringify({ settings, bundleUrl: `${bundles.url}/stepup.tar.gz`, verificationKeys: { fleet: key.publicPath }, signingAlg: "ES256", pollMinMs: 100, pollMaxMs: 200 }));
    const args = ["envoy", "serve", "--config", config, "--log-file", log, "--metrics-port", String(metricsPort), "--port", String(port), "--no-geo", "--memory-store", "--json"];
    const child = spawn(process.execPath, [inject("cliPath"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const client = new NodeEnvoyClient(`127.0.0.1:${port}`);
    let answered = 0;
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes("\n") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const started = JSON.parse(stdout) as { port: number; revision: string; metrics: string; tls: string; decision_log: boolean };
      expect(started, stderr).toMatchObject({ port, revision: "fleet-1", tls: "plaintext", decision_log: true, metrics: `http://127.0.0.1:${metricsPort}/metrics` });

      const input = { now: 1_795_852_800, subject: { id: "anonymous", kind: "human" as const, roles: [], groups: [], tags: [], privilege_granted_at: null }, session: null, credential: null, device: null, network: { ip: "198.51.100.8", zone: "corporate" as const, reputation: "neutral" as const, anonymizer: "none" as const, asn: null }, geo: null, behavior: null, familiarity: null, target: { app: "wiki", action: "read", resource: "/wiki/home" }, version: 1 as const };
      const request = protoObject(await edge.derive(input, "fleet"));
      const answers: { code: number; http: unknown }[] = [];
      // Checks in a steady stream, four at a time, until the new revision has answered some.
      let swapped = false;
      const stop = Date.now() + 30_000;
      let afterSwap = 0;
      while (Date.now() < stop && afterSwap < 40) {
        const outcomes = await Promise.all([1, 2, 3, 4].map(() => client.check(request)));
        for (const outcome of outcomes) answers.push({ code: outcome.code, http: outcome.code === 0 ? fromOutcome(outcome).http_status : null });
        if (answers.length === 40 && !swapped) {
          await publish("fleet-2");
          swapped = true;
        }
        if (swapped && (await scrape(started.metrics)).includes('stepup_bundle_active_info{revision="fleet-2"} 1')) afterSwap += 4;
      }
      expect(afterSwap, stderr).toBeGreaterThanOrEqual(40);
      expect(answers.filter((a) => a.code !== 0 || a.http !== 401), stderr).toEqual([]);

      const metrics = await scrape(started.metrics);
      const decided = [...metrics.matchAll(/^stepup_decisions_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(decided).toBe(answers.length);
      answered = answers.length;
      expect(metrics).toMatch(/^stepup_decision_duration_seconds_count \d+/m);
    } finally {
      client.close();
      child.kill("SIGTERM");
    }
    expect(await exited, stderr).toBe(0);
    // The logger flushed on shutdown: every decision, under the revision that made it, both present.
    const events = (await readFile(log, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { bundles: Record<string, { revision: string }> });
    const revisions = events.map((e) => Object.values(e.bundles)[0]?.revision);
    expect(revisions).toHaveLength(answered);
    expect(new Set(revisions)).toEqual(new Set(["fleet-1", "fleet-2"]));
    // Decisions are synchronous: every one after the swap is the new revision's, none split.
    expect(revisions.lastIndexOf("fleet-1")).toBeLessThan(revisions.indexOf("fleet-2"));
  }, 90_000);

  it("serves gRPC over mTLS: a client certificate from the CA is answered, none or plaintext is not", async () => {
    const openssl = promisify(execFile);
    const tls = join(dir, "tls");
    await mkdir(tls);
    const at = (name: string) => join(tls, name);
    const key = (name: string) => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", at(`${name}.key`)];
    await openssl("openssl", ["req", "-x509", ...key("ca"), "-out", at("ca.pem"), "-subj", "/CN=stepup test CA", "-days", "1"]);
    await writeFile(at("san.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    for (const [name, extra] of [["server", ["-extfile", at("san.cnf")]], ["envoy", []]] as const) {
      await openssl("openssl", ["req", ...key(name), "-out", at(`${name}.csr`), "-subj", `/CN=${name}`]);
      await openssl("openssl", ["x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-out", at(`${name}.pem`), "-days", "1", ...extra]);
    }
    const settings = join(dir, "settings-tls.json");
    await writeFile(settings, JSON.stringify(edge.settings));
    const port = await freePort();
    const args = ["envoy", "serve", "--settings", settings, "--bundle", inject("bundlePath"), "--port", String(port), "--no-geo", "--tls-cert", at("server.pem"), "--tls-key", at("server.key"), "--tls-client-ca", at("ca.pem"), "--json"];
    const child = spawn(process.execPath, [inject("cliPath"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    /** grpc.health.v1.Health/Check for the whole server: the status byte of its answer, or the error code. */
    const health = (credentials: grpc.ChannelCredentials) =>
      new Promise<string>((resolve) => {
        const client = new grpc.Client(`localhost:${port}`, credentials);
        client.makeUnaryRequest("/grpc.health.v1.Health/Check", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (err, res) => {
          client.close();
          resolve(err ? `error ${err.code}` : `status ${res?.[1]}`);
        });
      });
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes("\n") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      expect(JSON.parse(stdout)).toMatchObject({ port, tls: "mTLS" });
      const ca = await readFile(at("ca.pem"));
      // 1 is SERVING; 14 is UNAVAILABLE: the handshake was refused.
      expect(await health(grpc.credentials.createSsl(ca, await readFile(at("envoy.key")), await readFile(at("envoy.pem"))))).toBe("status 1");
      expect(await health(grpc.credentials.createSsl(ca))).toBe("error 14");
      expect(await health(grpc.credentials.createInsecure())).toBe("error 14");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
