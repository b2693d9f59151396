import { execFile } from "node:child_process";
import { inject } from "vitest";
import { Stepup } from "../src/stepup.js";
import { loadScenarios } from "../src/scenarios/catalog.js";
import type { Scenario } from "../src/contracts/scenario.js";

let stepup: Promise<Stepup> | undefined;

/** The SDK on the bundle built for this test run (shared by the suites in a worker). */
export function testStepup(): Promise<Stepup> {
  stepup ??= Stepup.load(inject("bundlePath"), { onError: () => {} });
  return stepup;
}

export function scenarios(): Promise<Scenario[]> {
  return loadScenarios("scenarios");
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the stepup CLI built for this test run, with `env` added to the environment. */
export function runCli(args: string[], stdin?: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [inject("cliPath"), ...args],
      { env: { ...process.env, STEPUP_BUNDLE: inject("bundlePath"), ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}
