/**
 * `stepup envoy serve`, `check-settings` and `index-settings`: the Node ext_authz server from the command
 * line (in one process and on several workers), on the same settings file opa-envoy-plugin reads as
 * data, answering a CheckRequest, and exiting cleanly on SIGTERM; broken settings refused naming each field.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { envoySignalsOptions, loadEnvoySettings } from "../../src/enforcement/envoy/settings.js";
import { NetworkSignals } from "../../src/signals/network.js";
import { runCli } from "../helpers.js";
import { fromOutcome } from "../support/envoy/answers.js";
import { makeEdge, protoObject, type Edge } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { freePort } from "../support/ports.js";
import { readFiles, withRevision, writeFiles } from "../support/bundles.js";
import { readFile } from "node:fs/promises";

let edge: Edge;
let dir: string;

beforeAll(async () => {
  edge = await makeEdge();
  dir = await mkdtemp(join(tmpdir(), "stepup-envoy-cli-"));
});

afterAll(async () => {
  await edge?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("stepup envoy", () => {
  it("indexes the address lists of a settings file, holding the same addresses", async () => {
    const plain = join(dir, "plain.json");
    await writeFile(plain, JSON.stringify(edge.settings));
    const out = join(dir, "indexed.json");
    const run = await runCli(["envoy", "index-settings", plain, "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const indexed = await loadEnvoySettings(out);
    expect(Array.isArray(indexed.network?.corporate)).toBe(false);
    expect(indexed.network?.lists?.every((l) => !Array.isArray(l.cidrs))).toBe(true);
    expect({ ...indexed, network: undefined }).toEqual({ ...edge.settings, network: undefined });
    const [before, after] = await Promise.all([edge.settings, indexed].map((s) => NetworkSignals.load(envoySignalsOptions(s).network)));
    for (const ip of ["198.51.100.7", "192.0.2.10", "203.0.113.66", "203.0.113.77", "203.0.113.9", "2001:db8::1"]) {
      expect(after!.classify(ip, null), ip).toEqual(before!.classify(ip, null));
    }
    expect((await runCli(["envoy", "check-settings", out])).code).toBe(0);
  });

  it.each([
    ["in one process", ["--memory-store"], ""],
    ["on two workers sharing the port", ["--workers", "2"], " on 2 workers"],
  ])("serves Check from the settings file %s and stops cleanly on SIGTERM", async (_, flags, suffix) => {
    const settings = join(dir, "settings.json");
    await writeFile(settings, JSON.stringify(edge.settings));
    const port = await freePort();
    const child = spawn(process.execPath, [inject("cliPath"), "envoy", "serve", "--settings", settings, "--bundle", inject("bundlePath"), "--port", String(port), "--no-geo", ...flags], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    // Connections of their own: the workers take connections in turn.
    const clients = [1, 2, 3].map(() => new NodeEnvoyClient(`127.0.0.1:${port}`, { ownConnection: true }));
    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes("listening on") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain(`listening on 127.0.0.1:${port} (plaintext, bundle revision test-revision, failure mode deny)${suffix}\n`);
      const input = { now: 1_795_852_800, subject: { id: "anonymous", kind: "human" as const, roles: [], groups: [], tags: [], privilege_granted_at: null }, session: null, credential: null, device: null, network: { ip: "198.51.100.8", zone: "corporate" as const, reputation: "neutral" as const, anonymizer: "none" as const, asn: null }, geo: null, behavior: null, familiarity: null, target: { app: "wiki", action: "read", resource: "/wiki/home" }, version: 1 as const };
      for (const [i, client] of clients.entries()) {
        const answer = fromOutcome(await client.check(protoObject(await edge.derive(input, `cli-${i}`))));
        expect(answer).toMatchObject({ status: 7, http_status: 401, body: { error: "insufficient_user_authentication" } });
        expect(answer.headers["www-authenticate"]).toMatch(/^Bearer realm="stepup-edge", acr_values="[^"]+", max_age="\d+"$/);
      }
    } finally {
      for (const client of clients) client.close();
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  it("serves with a candidate in report-only mode, logging both outcomes and counting them", async () => {
    const settings = join(dir, "settings.json");
    await writeFile(settings, JSON.stringify(edge.settings));
    const candidate = await writeFiles(join(dir, "candidate.tar.gz"), withRevision(await readFiles(inject("bundlePath")), "edge-candidate"));
    const log = join(dir, "edge-decisions.ndjson");
    const [port, metricsPort] = [await freePort(), await freePort()];
    const args = ["envoy", "serve", "--settings", settings, "--bundle", inject("bundlePath"), "--port", String(port), "--no-geo", "--memory-store"];
    const child = spawn(process.execPath, [inject("cliPath"), ...args, "--candidate", candidate, "--log-file", log, "--metrics-port", String(metricsPort)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const client = new NodeEnvoyClient(`127.0.0.1:${port}`);
    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes("metrics at") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain(`(plaintext, bundle revision test-revision, candidate edge-candidate in report-only mode, failure mode deny)`);
      const input = { now: 1_795_852_800, subject: { id: "anonymous", kind: "human" as const, roles: [], groups: [], tags: [], privilege_granted_at: null }, session: null, credential: null, device: null, network: { ip: "198.51.100.8", zone: "corporate" as const, reputation: "neutral" as const, anonymizer: "none" as const, asn: null }, geo: null, behavior: null, familiarity: null, target: { app: "wiki", action: "read", resource: "/wiki/home" }, version: 1 as const };
      const answer = fromOutcome(await client.check(protoObject(await edge.derive(input, "cli-shadow"))));
      expect(answer.http_status).toBe(401);
      await new Promise((r) => setTimeout(r, 200));
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(scrape).toMatch(/stepup_shadow_decisions_total\{tier="standard",app="wiki",agreement="agree"\} 1/);
      expect(scrape).toContain('stepup_shadow_candidate_info{revision="edge-candidate"} 1');
    } finally {
      client.close();
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg ?? "event")).toEqual(["stepup rollout", "event"]);
    expect(lines[1]).toMatchObject({ result: { outcome: "step_up" }, custom: { shadow: { revision: "edge-candidate", outcome: "step_up" } } });
  });

  it("checks a settings file, naming each field that is wrong", async () => {
    const good = join(dir, "good.json");
    await writeFile(good, JSON.stringify(edge.settings));
    const ok = await runCli(["envoy", "check-settings", good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("valid edge settings (session, device, network, workloads, targets, realm)");
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ network: { corporate: ["10.0.0.0/8", "not-a-cidr"] }, targets: { routes: [{ path: "/a/**/b", app: "x" }] }, extra: true }));
    const refused = await runCli(["envoy", "check-settings", bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("ERR_ENVOY_SETTINGS_INVALID");
    expect(refused.stderr).toContain("stepup_envoy.network.corporate[1]: not an IP address or CIDR");
    expect(refused.stderr).toContain("stepup_envoy.targets.routes[0].path");
    expect(refused.stderr).toContain("stepup_envoy.extra: unknown field");
    const indexed = await runCli(["envoy", "index-settings", bad]);
    expect(indexed.code).toBe(2);
    expect(indexed.stderr).toContain("stepup_envoy.network.corporate[1]: not an IP address or CIDR");
    const failureMode = await runCli(["envoy", "serve", "--settings", good, "--failure-mode", "maybe"]);
    expect(failureMode.code).toBe(2);
    expect(failureMode.stderr).toContain("--failure-mode");
    // Each worker would learn behaviour of its own.
    const workers = await runCli(["envoy", "serve", "--settings", good, "--workers", "2", "--memory-store"]);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain("workers: workers do not share --memory-store");
  });
});
