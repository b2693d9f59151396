/**
 * Done when (issue 29): `promtool check rules` and `promtool test rules` pass on the alert rules
 * (ops/prometheus/), and the Grafana dashboard (ops/grafana/) queries only metrics the SDK
 * exports — and every one of them. promtool comes with Debian's `prometheus` package, installed
 * by scripts/system-packages.sh; without it this suite skips, except under CI=true, where it fails.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { StepupMetrics } from "../../src/audit/metrics.js";

const PROMTOOL = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find((p) => existsSync(p)) ?? "promtool";
const hasPromtool = PROMTOOL !== "promtool";

function promtool(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd: "ops/prometheus" }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The names a scrape of the SDK's metrics holds: each metric's, and a histogram's series. */
function exportedNames(): Set<string> {
  const metrics = new StepupMetrics();
  const names = new Set<string>();
  for (const m of (metrics.registry as unknown as { getMetricsAsArray(): { name: string; type: string }[] }).getMetricsAsArray()) {
    if (m.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(m.name + suffix);
    else names.add(m.name);
  }
  return names;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"]);

/**
 * The metric names a PromQL expression selects: strings, label matchers, groupings, ranges and
 * Grafana's variables removed, an identifier is a metric unless a call or a keyword follows.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\$\w+/g, "");
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = bare.slice((match.index ?? 0) + match[0].length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(match[0]) || /^\d/.test(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

describe("the operations companions", () => {
  it("reads metric names out of PromQL as Prometheus would select them", () => {
    expect(metricNames('sum by (tier) (rate(stepup_decisions_total{job=~"$job",outcome="step_up"}[$__rate_interval])) / sum by (tier) (rate(up[5m]))')).toEqual([
      "stepup_decisions_total",
      "up",
    ]);
    expect(metricNames("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))")).toEqual(["x_bucket"]);
    expect(metricNames("time() - stepup_bundle_activated_timestamp_seconds > 7 * 86400")).toEqual(["stepup_bundle_activated_timestamp_seconds"]);
  });

  it("has a dashboard whose every query names metrics the SDK exports, and that shows each of them", async () => {
    const dashboard = JSON.parse(await readFile("ops/grafana/stepup-dashboard.json", "utf8")) as {
      panels: { title: string; type: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; query?: unknown }[] };
    };
    const exported = exportedNames();
    const queried = new Set<string>();
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list
        .filter((v) => typeof v.query === "object" && v.query !== null)
        .map((v) => ({ where: `variable ${v.name}`, expr: (v.query as { query: string }).query.replace(/^label_values\(([^,]+),.*\)$/, "$1") })),
    ];
    expect(queries.length).toBeGreaterThan(15);
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported.has(name), `${where} queries ${name}, which the SDK does not export`).toBe(true);
        queried.add(name);
      }
    }
    // Every exported metric has a panel (a histogram through its buckets).
    const histogramTotals = /_(sum|count)$/;
    const shown = [...exported].filter((name) => !(histogramTotals.test(name) && exported.has(name.replace(histogramTotals, "_bucket"))));
    expect(shown.filter((name) => !queried.has(name))).toEqual([]);
  });

  it("has alert rules on metrics the SDK exports", async () => {
    const rules = await readFile("ops/prometheus/alerts.yml", "utf8");
    const exprs = [...rules.matchAll(/expr: (\|\n((?: {10}.*\n)+)|(.*)\n)/g)].map((m) => (m[2] ?? m[3] ?? "").trim());
    expect(exprs).toHaveLength(7);
    const exported = exportedNames();
    for (const expr of exprs) for (const name of metricNames(expr)) expect(exported.has(name), `${expr} names ${name}`).toBe(true);
    // Failures to decide, fail-closed rate, bundle age and failed activations, log drops, shadow disagreement.
    for (const alert of ["StepupPolicyFailing", "StepupFailClosedRateHigh", "StepupBundleStale", "StepupBundleActivationFailing", "StepupDecisionLogDropping", "StepupShadowDisagreementHigh"]) {
      expect(rules).toContain(`alert: ${alert}\n`);
    }
  });

  describe.skipIf(!hasPromtool && process.env.CI !== "true")("with promtool", () => {
    it("passes promtool check rules", async () => {
      const result = await promtool(["check", "rules", "alerts.yml"]);
      expect(result.out).toContain("SUCCESS: 7 rules found");
      expect(result.code, result.out).toBe(0);
    });

    it("passes promtool test rules", async () => {
      const result = await promtool(["test", "rules", "alerts.test.yml"]);
      expect(result.out).toContain("SUCCESS");
      expect(result.code, result.out).toBe(0);
    });
  });
});
