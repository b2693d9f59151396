/**
 * Done when (replay of every log format): the real OPA (pinned, `opa run --server`) logs its
 * decisions to its console and uploads them to a collector; stepup's file, console and HTTP sinks
 * log the SDK's; opa-envoy-plugin (in its container) logs its `stepup/envoy/response` decisions
 * to its console. Each log is kept as those programs wrote it (the console output with its other
 * log lines, each upload's gzip body as a file) and `stepup replay` verifies every decision in it
 * on its own revision: the plugin's through the edge mapping, with the edge settings it read.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWriteStream } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { ConsoleSink } from "../../src/audit/sinks/console.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import type { Input } from "../../src/contracts/input.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios } from "../helpers.js";
import { startCollector, type Collector, type Upload } from "../support/collector.js";
import { makeEdge, protoObject, type Edge } from "../support/envoy/edge.js";
import { NodeEnvoyClient } from "../support/envoy/node-client.js";
import { startPlugin, type EnvoyPlugin } from "../support/envoy/plugin.js";
import { startOpa, type OpaServer } from "../support/opa-server.js";

const fromOpa = (u: Upload) => String(u.headers["user-agent"]).startsWith("Open-Policy-Agent");

let dir: string;
let collector: Collector;
let opa: OpaServer | undefined;
let plugin: EnvoyPlugin | undefined;
let edge: Edge | undefined;
let inputs: Input[];
const fixtures: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-log-formats-"));
  inputs = (await scenarios()).map((s) => s.input);
  collector = await startCollector({ "/bundles/stepup.tar.gz": await readFile(inject("bundlePath")) });

  // OPA: console decision logs and uploads through its decision-log plugin.
  opa = await startOpa(
    [
      "services:",
      "  collector:",
      `    url: ${collector.url}`,
      "bundles:",
      "  stepup:",
      "    service: collector",
      "    resource: bundles/stepup.tar.gz",
      "decision_logs:",
      "  service: collector",
      "  console: true",
      "  reporting:",
      "    min_delay_seconds: 1",
      "    max_delay_seconds: 1",
    ].join("\n"),
  );
  for (const input of inputs) {
    const res = await fetch(`${opa.url}/v1/data/stepup/decision`, { method: "POST", body: JSON.stringify({ input }) });
    expect(res.status).toBe(200);
  }
  await collector.waitFor(inputs.length, fromOpa);
  fixtures.opaConsole = join(dir, "opa-console.log");
  await writeFile(fixtures.opaConsole, opa.output());
  fixtures.opaUploads = join(dir, "opa-uploads");
  await saveUploads(fixtures.opaUploads, collector.uploads.filter(fromOpa));

  // stepup's three sinks, at once.
  fixtures.file = join(dir, "stepup-file", "decisions.ndjson");
  fixtures.console = join(dir, "stepup-console.log");
  const consoleOut = createWriteStream(fixtures.console);
  const logger = new DecisionLogger({
    sinks: [
      new FileSink({ path: fixtures.file, spoolDir: join(dir, "file-spool") }),
      new ConsoleSink({ stream: consoleOut }),
      new HttpSink({ url: collector.url, spoolDir: join(dir, "http-spool") }),
    ],
    onReview: () => {},
  });
  const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision });
  for (const input of inputs) stepup.decideInput(input);
  await logger.close();
  await new Promise((resolve) => consoleOut.end(resolve));
  fixtures.httpUploads = join(dir, "stepup-uploads");
  await saveUploads(fixtures.httpUploads, collector.uploads.filter((u) => !fromOpa(u)));

  // opa-envoy-plugin: each scenario as the CheckRequest Envoy would send.
  edge = await makeEdge();
  plugin = await startPlugin(inject("bundlePath"), edge.settings);
  const client = new NodeEnvoyClient(plugin.grpcAddress);
  try {
    for (const [i, input] of inputs.entries()) await client.check(protoObject(await edge.derive(input, `req-${i}`)));
  } finally {
    client.close();
  }
  const deadline = Date.now() + 20_000;
  while (plugin.decisionLogs().length < inputs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  fixtures.plugin = join(dir, "plugin-console.log");
  await writeFile(fixtures.plugin, plugin.output());
  fixtures.edgeSettings = join(dir, "edge-settings.json");
  await writeFile(fixtures.edgeSettings, JSON.stringify(edge.settings));
}, 240_000);

afterAll(async () => {
  await plugin?.stop();
  await edge?.close();
  await opa?.stop();
  await collector?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function saveUploads(folder: string, uploads: Upload[]): Promise<void> {
  expect(uploads.length).toBeGreaterThan(0);
  await mkdir(folder, { recursive: true });
  for (const [i, u] of uploads.entries()) await writeFile(join(folder, `${String(i).padStart(4, "0")}.json.gz`), u.raw);
}

async function replay(log: string, ...extra: string[]) {
  const result = await runCli(["replay", log, "--bundle", inject("bundlePath"), "--store", join(dir, "no-store"), "--json", ...extra]);
  expect(result.code, `${result.stderr}\n${result.stdout.slice(0, 2000)}`).toBe(0);
  return JSON.parse(result.stdout) as { events: number; reproduced: number };
}

describe("stepup replay reads and verifies", () => {
  it("OPA's console decision logs, among its other log lines", async () => {
    expect(await readFile(fixtures.opaConsole!, "utf8")).toMatch(/"msg":"Decision Log"/);
    expect(await replay(fixtures.opaConsole!)).toMatchObject({ events: inputs.length, reproduced: inputs.length });
  });

  it("OPA's HTTP uploads, each a gzip JSON array", async () => {
    expect(await replay(fixtures.opaUploads!)).toMatchObject({ events: inputs.length, reproduced: inputs.length });
  });

  it("stepup's file, console and HTTP sinks", async () => {
    for (const log of [fixtures.file!, fixtures.console!, fixtures.httpUploads!]) {
      expect(await replay(log), log).toMatchObject({ events: inputs.length, reproduced: inputs.length });
    }
  });

  it("opa-envoy-plugin's decisions, through the edge mapping", async () => {
    const report = await replay(fixtures.plugin!, "--envoy-settings", fixtures.edgeSettings!);
    expect(report).toMatchObject({ events: inputs.length, reproduced: inputs.length });
  });
});
