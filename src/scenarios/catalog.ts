/** Loading the scenario catalogue and checking a decision against a scenario's expectation. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Decision } from "../contracts/decision.js";
import { toIssues } from "../contracts/issues.js";
import { ScenarioSchema, type Scenario } from "../contracts/scenario.js";
import { InputInvalidError, InputNotJsonError } from "../errors.js";

/** Every `*.json` scenario in the folder, sorted by file name. */
export async function loadScenarios(dir: string): Promise<Scenario[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  return Promise.all(names.map((name) => loadScenario(join(dir, name))));
}

export async function loadScenario(path: string): Promise<Scenario> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new InputNotJsonError(`${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) throw new InputInvalidError(toIssues(result.error, path));
  return result.data;
}

/** What differs between the decision and the scenario's expectation; empty when it matches. */
export function mismatches(scenario: Scenario, decision: Decision): string[] {
  const { expect } = scenario;
  const found: string[] = [];
  const reasons = new Set(decision.reasons.map((r) => r.code));
  if (decision.outcome !== expect.outcome) found.push(`outcome ${decision.outcome}, expected ${expect.outcome}`);
  if (expect.tier && decision.target.tier !== expect.tier) {
    found.push(`tier ${decision.target.tier}, expected ${expect.tier}`);
  }
  for (const code of expect.reasons ?? []) if (!reasons.has(code)) found.push(`reason ${code} missing`);
  for (const code of expect.absent_reasons ?? []) if (reasons.has(code)) found.push(`reason ${code} present`);
  if (expect.obligations) {
    const want = [...expect.obligations].sort().join(",");
    const got = [...decision.obligations].sort().join(",");
    if (want !== got) found.push(`obligations [${got}], expected [${want}]`);
  }
  return found;
}
