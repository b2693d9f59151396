/**
 * The SDK's main journeys — decide, the pool, a Guard, replay — through the package's entry point
 * only: a child process imports `stepup` by name from an app whose node_modules holds the package
 * (its package.json and the library as built for the suites), so Node resolves it through
 * `exports` as it does for users. Internals (OPA's host, the engine class) are not on it.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);
let app: string;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), "stepup-entry-"));
  const pkg = join(app, "node_modules", "stepup");
  await mkdir(pkg, { recursive: true });
  await cp("package.json", join(pkg, "package.json"));
  await symlink(resolve(".tools", "test-build"), join(pkg, "dist"));
  const scenarios = [];
  for (const file of (await readdir("scenarios")).filter((f) => f.endsWith(".json")).sort()) {
    scenarios.push(JSON.parse(await readFile(join("scenarios", file), "utf8")) as { expect: { outcome: string } });
  }
  await writeFile(join(app, "scenarios.json"), JSON.stringify(scenarios));
  await cp("test/support/entry-journeys.mjs", join(app, "journeys.mjs"));
});

afterAll(async () => {
  await rm(app, { recursive: true, force: true });
});

describe("the package entry point", () => {
  it("decides, pools, guards and replays through `import(\"stepup\")` alone", async () => {
    const scenarios = JSON.parse(await readFile(join(app, "scenarios.json"), "utf8")) as { expect: { outcome: string } }[];
    const { stdout } = await run(process.execPath, ["journeys.mjs", resolve(inject("bundlePath")), "scenarios.json", app], { cwd: app });
    const result = JSON.parse(stdout) as {
      decided: string[];
      invalid: { isInputInvalid: boolean; code: string; paths: string[] } | null;
      pooled: string[];
      guard: { outcome: string; proceed: boolean; status: number; subject: string };
      replay: { events: number; reproduced: number; differed: number };
      entry: { internal: string[] };
    };
    expect(result.decided).toEqual(scenarios.map((s) => s.expect.outcome));
    expect(result.invalid).toEqual({ isInputInvalid: true, code: "ERR_INPUT_INVALID", paths: ["now"] });
    expect(result.pooled).toEqual(result.decided);
    // No token: an anonymous request to payroll is not let through.
    expect(result.guard.subject).toBe("anonymous");
    expect(result.guard.proceed).toBe(false);
    expect(result.guard.outcome).not.toBe("allow");
    expect([401, 403]).toContain(result.guard.status);
    // The valid decisions were logged (the invalid input never decided) and every one reproduces.
    expect(result.replay).toEqual({ events: scenarios.length, reproduced: scenarios.length, differed: 0 });
    expect(result.entry.internal).toEqual([]);
  }, 60_000);
});
