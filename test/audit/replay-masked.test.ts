/**
 * Done when (masking-aware replay): what-if on a log masked at a field the policy reads reports
 * no transition for it, and names those decisions ("not replayable: masked at /input/…"); on the
 * documented mask (docs/audit.md), which hides only what the policy does not read, every decision replays and none
 * changes. `stepup mask check` warns about the first mask and not the second. The paths the
 * policy reads are found in the bundle's Rego; the scan is checked against OPA's own parser.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { policyReads, readsIn } from "../../src/audit/policy-reads.js";
import { readLogEvents } from "../../src/audit/read-log.js";
import { RevisionIndex, verify, whatIf } from "../../src/audit/replay.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { loadBundle, type Bundle } from "../../src/bundle/load.js";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import type { MaskRule } from "../../src/contracts/decision-log.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios } from "../helpers.js";
import { sampleInputs } from "../support/arbitraries.js";

/** The mask the documentation showed before: it hashes subject.id, which exceptions read. */
const HASHES_SUBJECT: MaskRule[] = [
  { op: "hash", path: "/input/subject/id" },
  { op: "truncate_ip", path: "/input/network/ip" },
  "/input/target/resource",
];
/** The documented mask (docs/audit.md): only what the policy does not read. */
const DOCUMENTED_MASK: MaskRule[] = [{ op: "truncate_ip", path: "/input/network/ip" }, "/input/target/resource", "/input/device/id"];

let dir: string;
let bundle: Bundle;
const logs: Record<string, string> = {};
let total = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-replay-masked-"));
  bundle = await loadBundle(inject("bundlePath"));
  const inputs = [...(await scenarios()).map((s) => s.input), ...sampleInputs(11, 200)];
  total = inputs.length;
  for (const [name, mask] of [["hashes-subject", HASHES_SUBJECT], ["documented", DOCUMENTED_MASK]] as const) {
    const path = join(dir, `${name}.ndjson`);
    const logger = new DecisionLogger({ sinks: [new FileSink({ path, spoolDir: join(dir, `${name}-spool`) })], mask, hashKey: "k", onReview: () => {} });
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
    for (const input of inputs) stepup.decideInput(input);
    await logger.close();
    logs[name] = path;
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("what-if and verify on masked logs", () => {
  it("names the decisions masked where the policy reads, and reports no transition for them", async () => {
    const report = await whatIf(readLogEvents([logs["hashes-subject"]!]), bundle);
    expect(report.masked).toBe(total);
    expect(report.masked_paths).toEqual({ "/input/subject/id": total });
    expect(report.masked_examples.length).toBeGreaterThan(0);
    expect(report.changed_outcome).toBe(0);
    expect(report.events).toBe(0);
    const verified = await verify(readLogEvents([logs["hashes-subject"]!]), new RevisionIndex(new Map([[bundle.revision, bundle]])));
    expect(verified).toMatchObject({ events: total, masked: total, reproduced: 0, differed: 0 });
  });

  it("replays every decision of the documented mask, with 0 transitions", async () => {
    const report = await whatIf(readLogEvents([logs.documented!]), bundle);
    expect(report).toMatchObject({ events: total, masked: 0, unreplayable: 0, changed_outcome: 0, changed_other: 0 });
    for (const transition of Object.keys(report.transitions)) expect(transition.split("→")[0]).toBe(transition.split("→")[1]);
    const verified = await verify(readLogEvents([logs.documented!]), new RevisionIndex(new Map([[bundle.revision, bundle]])));
    expect(verified).toMatchObject({ events: total, reproduced: total, masked: 0 });
  });

  it("says so in the CLI's report, and on threads as in the main thread", async () => {
    const result = await runCli(["replay", logs["hashes-subject"]!, "--against", inject("bundlePath"), "--threads", "2"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${total} not replayable: masked at /input/subject/id (${total})`);
    expect(result.stdout).toMatch(/outcome changed: 0;/);
  });
});

describe("stepup mask check", () => {
  it("warns about a rule that hides a field the policy reads, and passes the documented mask", async () => {
    const bad = join(dir, "bad.json");
    const good = join(dir, "good.json");
    await writeFile(bad, JSON.stringify(HASHES_SUBJECT));
    await writeFile(good, JSON.stringify(DOCUMENTED_MASK));
    const warned = await runCli(["mask", "check", bad, "--bundle", inject("bundlePath")]);
    expect(warned.code).toBe(1);
    expect(warned.stderr).toMatch(/mask\[0\] \/input\/subject\/id hides what the policy reads: input\.subject\.id/);
    const passed = await runCli(["mask", "check", good, "--bundle", inject("bundlePath")]);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/none hides a field the policy reads/);
  });

  it("finds the same input references as OPA's parser", async () => {
    for (const [path, bytes] of bundle.files) {
      if (!path.endsWith(".rego") || path.includes("envoy")) continue;
      const source = Buffer.from(bytes).toString("utf8");
      const parsed = await opaRefs(source, join(dir, path.replaceAll("/", "_")));
      const scanned = new Set(readsIn(source, path).map((r) => r.keys.join(".")));
      expect([...scanned].sort(), path).toEqual([...parsed].sort());
    }
    expect(policyReads(bundle.files).some((r) => r.keys.join(".") === "subject.id")).toBe(true);
  });
});

/** The static prefix of every `input` reference OPA's parser finds in a module. */
async function opaRefs(source: string, file: string): Promise<Set<string>> {
  await writeFile(file, source);
  const { stdout } = await promisify(execFile)(opaBinary(), ["parse", "--format", "json", file], { maxBuffer: 64 * 1024 * 1024 });
  const refs = new Set<string>();
  const walk = (node: unknown, withTarget: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, withTarget));
    if (typeof node !== "object" || node === null) return;
    const n = node as Record<string, unknown>;
    if (n.type === "ref" && Array.isArray(n.value)) {
      const [head, ...rest] = n.value as { type: string; value: unknown }[];
      if (head?.type === "var" && head.value === "input" && !withTarget) {
        const keys: string[] = [];
        for (const term of rest) {
          if (term.type !== "string") break;
          keys.push(String(term.value));
        }
        refs.add(keys.join("."));
        // The head is this reference's own `input`, not another read.
        return rest.forEach((t) => walk(t, withTarget));
      }
    }
    if (n.type === "var" && n.value === "input" && !withTarget) refs.add("");
    for (const [key, value] of Object.entries(n)) walk(value, withTarget || key === "target");
  };
  walk(JSON.parse(stdout), false);
  return refs;
}
