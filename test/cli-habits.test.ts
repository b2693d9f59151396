/**
 * The CLI's habits: `--version`, `--json` on every command, a quiet end when the reader closes
 * the pipe (`stepup <cmd> --json | head -1` exits 0 with nothing on stderr, for every command
 * that prints more than one line), scenario files accepted by `eval` and `explain`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DecisionLogger } from "../src/audit/logger.js";
import { FileSink } from "../src/audit/sinks/file.js";
import { Stepup } from "../src/stepup.js";
import { runCli, scenarios } from "./helpers.js";

const run = promisify(execFile);
let dir: string;
let log: string;
let scenarioFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-cli-habits-"));
  log = join(dir, "decisions.ndjson");
  const logger = new DecisionLogger({ sinks: [new FileSink({ path: log, maxBytes: 1024 ** 3 })] });
  const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
  const all = await scenarios();
  for (let i = 0; i < 40; i++) for (const s of all) stepup.decideInput(s.input);
  await logger.close();
  await writeFile(join(dir, "inputs.ndjson"), `${Array.from({ length: 40 }, () => all.map((s) => JSON.stringify(s.input))).flat().join("\n")}\n`);
  await writeFile(join(dir, "settings.json"), "{}");
  await writeFile(join(dir, "mask.json"), JSON.stringify([{ op: "hash", path: "/input/subject/id" }]));
  scenarioFile = resolve("scenarios", "break-glass-admin.json");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `stepup <args> | head -1` in bash with pipefail: the status is stepup's unless it is 0. */
async function headOne(args: string[]): Promise<{ status: number; first: string; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const script = `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(resolve(inject("cliPath")))} ${quoted} | head -1`;
  try {
    const { stdout, stderr } = await run("bash", ["-c", script], { cwd: dir, env: { ...process.env, STEPUP_BUNDLE: resolve(inject("bundlePath")), STEPUP_BUNDLE_STORE: join(dir, "store") } });
    return { status: 0, first: stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { status: e.code, first: e.stdout, stderr: e.stderr };
  }
}

describe("the CLI's habits", () => {
  it("prints the package version and the default bundle's revision", async () => {
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
    const env = { STEPUP_BUNDLE: resolve(inject("bundlePath")) };
    const text = await runCli(["--version"], undefined, env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`stepup ${pkg.version}`);
    expect(text.stdout).toContain("bundle revision test-revision");
    const json = JSON.parse((await runCli(["--version", "--json"], undefined, env)).stdout) as { version: string; bundle: { revision: string } };
    expect(json).toMatchObject({ version: pkg.version, bundle: { revision: "test-revision" } });
  });

  it("decides a scenario file's input in eval and explain", async () => {
    const scenario = JSON.parse(await readFile(scenarioFile, "utf8")) as { input: unknown; expect: { outcome: string } };
    const fromScenario = await runCli(["eval", scenarioFile, "--bundle", inject("bundlePath")]);
    expect(fromScenario.code, fromScenario.stderr).toBe(0);
    expect((JSON.parse(fromScenario.stdout) as { outcome: string }).outcome).toBe(scenario.expect.outcome);
    const explained = await runCli(["explain", scenarioFile, "--bundle", inject("bundlePath")]);
    expect(explained.stdout).toMatch(/^ALLOW/m);
    // A scenario whose input breaks the contract is named under input.
    const broken = join(dir, "broken-scenario.json");
    await writeFile(broken, JSON.stringify({ ...(scenario as object), input: { ...(scenario.input as object), now: "soon" } }));
    const refused = await runCli(["eval", broken, "--bundle", inject("bundlePath")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ERR_INPUT_INVALID[\s\S]*input\.now/);
  });

  it("prints JSON for the commands that print a report", async () => {
    const bundle = inject("bundlePath");
    const cases: [string[], (value: Record<string, unknown>) => void][] = [
      [["scenarios", "--bundle", bundle, "--json"], (v) => expect(v.as_expected).toBe(v.total)],
      [["envoy", "check-settings", join(dir, "settings.json"), "--json"], (v) => expect(v.valid).toBe(true)],
      [["bundle", "store", "add", bundle, "--store", join(dir, "store"), "--json"], (v) => expect(v.revision).toBe("test-revision")],
      [["bundle", "store", "list", "--store", join(dir, "store"), "--json"], (v) => expect(v.revisions).toEqual(["test-revision"])],
      [["mask", "check", join(dir, "mask.json"), "--bundle", bundle, "--json"], (v) => expect(v.rules).toBe(1)],
      [["explain", scenarioFile, "--bundle", bundle, "--json"], (v) => expect(v.outcome).toBe("allow")],
    ];
    for (const [args, check] of cases) {
      const result = await runCli(args);
      expect(result.stderr, args.join(" ")).not.toMatch(/ERR_/);
      check(JSON.parse(result.stdout) as Record<string, unknown>);
    }
  });

  it("ends quietly with status 0 when the reader closes the pipe", async () => {
    const commands: string[][] = [
      ["eval", scenarioFile, "--json"],
      ["explain", scenarioFile],
      ["scenarios", "--json"],
      ["scenarios", "--explain"],
      ["schema", "input", "--json"],
      ["batch", "inputs.ndjson", "--json"],
      ["review", log, "--since", "1d", "--json"],
      ["review", log, "--since", "1d"],
      ["replay", log, "--bundle", inject("bundlePath"), "--json"],
      ["generate-stream", "--days", "3", "--employees", "50", "--attacks", "50", "--json"],
      ["bundle", "store", "list", "--json"],
      ["envoy", "check-settings", "settings.json", "--json"],
    ];
    for (const args of commands) {
      const { status, first, stderr } = await headOne(args);
      expect(stderr, args.join(" ")).toBe("");
      expect(status, args.join(" ")).toBe(0);
      expect(first.length, args.join(" ")).toBeGreaterThan(0);
    }
  }, 120_000);
});
