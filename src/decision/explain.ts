/**
 * A decision written for a person: the outcome, what is required and whether the session meets it,
 * each signal with its points, and each reason with the controls it serves.
 */
import type { Decision, Requirement } from "../contracts/decision.js";

const OUTCOME_LABEL = { allow: "ALLOW", step_up: "STEP UP", deny: "DENY" } as const;

export function explain(decision: Decision): string {
  const { target, risk } = decision;
  const lines: string[] = [];
  lines.push(
    `${OUTCOME_LABEL[decision.outcome]} — ${target.action} on ${target.app} (tier ${target.tier})`,
    `  decision ${decision.decision_id} · bundle revision ${decision.policy.revision} · policy ${decision.policy.version}`,
  );
  const groups = Object.entries(risk.groups)
    .filter(([, points]) => points > 0)
    .map(([group, points]) => `${group} ${points}`)
    .join(", ");
  lines.push(`  risk: ${risk.score} (${risk.level})${groups ? ` — ${groups}` : ""}`);
  lines.push(`  requirement: ${describeRequirement(decision.requirement)}`);
  lines.push(`  current session meets it: ${decision.satisfied ? "yes" : "no"}`);
  if (risk.contributions.length > 0) {
    lines.push("  signals:");
    for (const c of risk.contributions) {
      lines.push(`    +${String(c.points).padStart(3)}  ${c.signal.padEnd(30)} ${c.title}: ${c.detail}`);
    }
  }
  if (decision.reasons.length > 0) {
    lines.push("  reasons:");
    for (const r of decision.reasons) {
      const controls = r.controls.length > 0 ? ` [${r.controls.join(", ")}]` : "";
      lines.push(`    ${r.code.padEnd(34)} ${r.title}: ${r.message}${controls}`);
    }
  }
  for (const e of decision.exceptions) {
    const relaxed = e.relaxed.length > 0 ? `; relaxed ${e.relaxed.join(", ")}` : "";
    lines.push(`  exception: ${e.id} (${e.kind}) approved by ${e.approver}, expires ${isoDate(e.expires_at)}${relaxed}`);
  }
  if (decision.obligations.length > 0) lines.push(`  obligations: ${decision.obligations.join(", ")}`);
  if (decision.error) lines.push(`  error: ${decision.error.code}: ${decision.error.message}`);
  return lines.join("\n");
}

export function describeRequirement(req: Requirement): string {
  if (req.kind === "workload") {
    const parts = [`proof by ${req.proof.join(" or ")}`, `credential lifetime at most ${duration(req.max_lifetime)}`];
    if (req.missing.length > 0) parts.push(`missing: ${req.missing.join(", ")}`);
    return parts.join("; ");
  }
  const parts: string[] = [req.aal];
  if (req.phishing_resistant) parts.push("phishing-resistant");
  parts.push(`authenticated within ${duration(req.max_age)}`);
  const acr = req.acr_values.length > 0 ? `; acr_values ${req.acr_values.join(" ")}` : "";
  return parts.join(", ") + acr;
}

/** Seconds as the largest whole unit: 300 → "5 min", 43200 → "12 h". */
export function duration(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  }
  return `${seconds} s`;
}

function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
