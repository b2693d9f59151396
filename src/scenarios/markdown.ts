/** The scenario catalogue as a page for people: docs/scenarios.md is generated from scenarios/. */
import type { Scenario } from "../contracts/scenario.js";

const OUTCOME = { allow: "allow", step_up: "**step up**", deny: "**deny**" } as const;

export function scenariosMarkdown(scenarios: readonly Scenario[]): string {
  const lines = [
    "# Scenario catalogue",
    "",
    "<!-- Generated from scenarios/*.json by `make docs`; a test keeps it in step. Edit the JSON, not this page. -->",
    "",
    "Each scenario is an input document and the decision expected for it. The same catalogue is run",
    "by the tests on the in-process wasm, by the parity suites on every runtime, and by `make demo`.",
    "",
    "| # | scenario | subject | target | tier | expected | reasons that must appear | obligations |",
    "| ---: | --- | --- | --- | --- | --- | --- | --- |",
  ];
  scenarios.forEach((s, i) => {
    const { input, expect } = s;
    const reasons = (expect.reasons ?? []).map((r) => `\`${r}\``).join(", ");
    const obligations = expect.obligations === undefined ? "" : expect.obligations.join(", ") || "none";
    lines.push(
      `| ${i + 1} | [${s.title}](#${s.name}) | ${input.subject.kind} | ${input.target.action} on ${input.target.app} | ` +
        `${expect.tier ?? ""} | ${OUTCOME[expect.outcome]} | ${reasons} | ${obligations} |`,
    );
  });
  lines.push("");
  for (const s of scenarios) {
    lines.push(`## ${s.name}`, "", `**${s.title}.** ${s.description ?? ""}`, "");
    if (s.expect.absent_reasons?.length) {
      lines.push(`Must not give: ${s.expect.absent_reasons.map((r) => `\`${r}\``).join(", ")}.`, "");
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
