/**
 * The review as one self-contained HTML page: the summary at the top (the same lines as the text
 * review, each number tagged with its key in `--json`), then each chart with its numbers in a table
 * beside it. The charts are Vega-Lite specifications rendered in the browser by Vega, Vega-Lite and
 * vega-embed, whose browser builds are inlined: the page makes no request when it is opened, and
 * its Content-Security-Policy forbids any. Everything taken from the logs (subjects, apps, codes)
 * is escaped, in the HTML and in the specifications' JSON alike. Laid out for a laptop screen,
 * and printable (A4 landscape, a section never split across pages).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AffectedRow, RateRow, ReviewReport } from "./review-report.js";
import { summaryLines } from "./review-report.js";

const COLORS = { allow: "#009E73", step_up: "#E69F00", deny: "#D55E00", stricter: "#D55E00", lenient: "#0072B2", neutral: "#56B4E9" };
const WIDTH = 440;

type Cell = string | number;

/** One chart of the page: its specification (none when there is nothing to draw) and the numbers beside it. */
interface ChartSection {
  readonly id: string;
  readonly title: string;
  readonly note: string;
  readonly spec: Record<string, unknown> | undefined;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** The browser builds of Vega, Vega-Lite and vega-embed, read once from their packages. */
let libraries: string | undefined;
function inlinedLibraries(): string {
  if (libraries === undefined) {
    const require = createRequire(import.meta.url);
    const read = (pkg: string, file: string) => {
      // Each package's entry point sits in its build folder, beside the browser build.
      const code = readFileSync(join(dirname(require.resolve(pkg)), file), "utf8");
      return `<script>${code.replaceAll("</script", "<\\/script")}</script>`;
    };
    libraries = [read("vega", "vega.min.js"), read("vega-lite", "vega-lite.min.js"), read("vega-embed", "vega-embed.min.js")].join("\n");
  }
  return libraries;
}

/** The review as a self-contained HTML page. */
export function reviewHtml(report: ReviewReport, options: { generatedAt?: Date; title?: string } = {}): string {
  const sections = chartSections(report);
  const specs = Object.fromEntries(sections.filter((s) => s.spec).map((s) => [`chart-${s.id}`, s.spec]));
  const title = options.title ?? "stepup review";
  const generated = (options.generatedAt ?? new Date()).toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escape(title)}</h1>
<p class="kind">${escape(describeKind(report))}</p>
<p class="meta">Generated ${escape(generated)} · window ${escape(report.window.since ?? "from the first event")} to ${escape(report.window.until ?? "the last")}</p>
</header>
<main>
<section id="summary" aria-label="Summary">
<h2>Summary</h2>
${summaryHtml(report)}
</section>
${sections.map(sectionHtml).join("\n")}
</main>
${inlinedLibraries()}
<script type="application/json" id="specs">${jsonForScript(specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById("specs").textContent);
  Object.keys(specs).forEach(function (id) {
    vegaEmbed("#" + id, specs[id], { mode: "vega-lite", renderer: "svg", actions: false }).catch(function (err) {
      console.error("chart " + id + " failed: " + err);
    });
  });
})();
</script>
</body>
</html>
`;
}

function describeKind(report: ReviewReport): string {
  const candidates = Object.keys(report.comparison?.candidate_revisions ?? {}).join(", ");
  if (report.kind === "what_if") return `What-if: the logged decisions evaluated on candidate ${candidates}`;
  if (report.kind === "shadow") return `Report-only rollout: the candidate's outcomes logged beside the enforced ones (${candidates})`;
  return "Decisions of a window of decision logs";
}

function summaryHtml(report: ReviewReport): string {
  const lines = summaryLines(report).map(
    (parts) =>
      `<p>${parts
        .map((p) => (typeof p === "string" ? escape(p) : `<span class="n" data-key="${escape(p.key)}" data-value="${escape(String(report.summary[p.key]))}">${escape(p.text)}</span>`))
        .join("")}</p>`,
  );
  return `<div class="summary">\n${lines.join("\n")}\n</div>`;
}

function sectionHtml(section: ChartSection): string {
  const table = `<table class="numbers"><thead><tr>${section.columns.map((c) => `<th>${escape(c)}</th>`).join("")}</tr></thead><tbody>${section.rows
    .map((row) => `<tr>${row.map((cell) => `<td${typeof cell === "number" ? ' class="num"' : ""}>${escape(formatCell(cell))}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
  const body = section.spec
    ? `<div class="row"><div class="chart" id="chart-${section.id}" role="img" aria-label="${escape(section.title)}"></div>${table}</div>`
    : `<p class="empty">None in this window.</p>`;
  return `<section id="${section.id}">
<h2>${escape(section.title)}</h2>
<p class="note">${escape(section.note)}</p>
${body}
</section>`;
}

function formatCell(cell: Cell): string {
  return typeof cell === "number" ? cell.toLocaleString("en-US") : cell;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function chartSections(report: ReviewReport): ChartSection[] {
  const sections: ChartSection[] = [outcomesOverTime(report)];
  sections.push(
    rates("by-tier", "Prompt and deny rates by tier", "Share of the decisions on each target tier that stepped up or denied.", "tier", report.by_tier),
    rates("by-app", "Prompt and deny rates by app", `The ${report.by_app.length} apps with the most decisions.`, "app", report.by_app),
    rates("by-signal", "Prompt and deny rates by signal", "Decisions to which each risk signal contributed points, and how many of them stepped up or denied.", "signal", report.by_signal),
    promptReasons(report),
    exceptions(report),
  );
  if (report.comparison) {
    const comparison = report.comparison;
    sections.push(
      transitions(report),
      affected("subjects", "Subjects most affected", "Subjects whose decisions the candidate changes most: stricter (allow → step_up, step_up → deny, …) or more lenient.", "subject", comparison.subjects),
      affected("apps", "Apps most affected", "Apps whose decisions the candidate changes most.", "app", comparison.apps),
    );
  }
  return sections;
}

function base(height: number, values: readonly object[], extra: Record<string, unknown>): Record<string, unknown> {
  return {
    width: WIDTH,
    height,
    data: { values },
    config: {
      font: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 11, labelLimit: 180 },
      legend: { labelFontSize: 11, titleFontSize: 11, orient: "bottom" },
    },
    ...extra,
  };
}

function outcomesOverTime(report: ReviewReport): ChartSection {
  const label = (iso: string) =>
    report.bucket === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00` : report.bucket === "day" ? iso.slice(0, 10) : `week of ${iso.slice(0, 10)}`;
  const values = report.outcomes_over_time.map((r) => ({ ...r, label: label(r.bucket) }));
  const buckets = [...new Set(report.outcomes_over_time.map((r) => r.bucket))];
  const rows = buckets.map((b) => {
    const of = (o: string) => report.outcomes_over_time.find((r) => r.bucket === b && r.outcome === o)?.decisions ?? 0;
    return [label(b), of("allow"), of("step_up"), of("deny")];
  });
  return {
    id: "outcomes-over-time",
    title: "Outcomes over time",
    note: `Decisions per ${report.bucket} (UTC), by outcome.`,
    spec:
      values.length === 0
        ? undefined
        : base(220, values, {
            // A bar about as wide as a finger per bucket, up to the chart's width.
            width: Math.min(WIDTH, Math.max(160, buckets.length * 24)),
            mark: { type: "bar", tooltip: true },
            encoding: {
              x: { field: "label", type: "ordinal", sort: null, title: null, axis: { labelAngle: -40 } },
              y: { field: "decisions", type: "quantitative", stack: true, title: "decisions" },
              color: outcomeColor(),
            },
          }),
    columns: [report.bucket, "allow", "step_up", "deny"],
    rows,
  };
}

function outcomeColor(): Record<string, unknown> {
  return { field: "outcome", type: "nominal", title: null, scale: { domain: ["allow", "step_up", "deny"], range: [COLORS.allow, COLORS.step_up, COLORS.deny] } };
}

function rates(id: string, title: string, note: string, keyName: string, rows: readonly RateRow[]): ChartSection {
  const values = rows.flatMap((r) => [
    { key: r.key, measure: "prompt rate", rate: r.prompt_rate, decisions: r.decisions },
    { key: r.key, measure: "deny rate", rate: r.deny_rate, decisions: r.decisions },
  ]);
  return {
    id,
    title,
    note,
    spec:
      rows.length === 0
        ? undefined
        : base(Math.max(60, rows.length * 30), values, {
            mark: { type: "bar", tooltip: true },
            encoding: {
              y: { field: "key", type: "nominal", sort: rows.map((r) => r.key), title: null },
              yOffset: { field: "measure", sort: ["prompt rate", "deny rate"] },
              x: { field: "rate", type: "quantitative", title: "share of decisions", axis: { format: ".0%" }, scale: { domain: [0, 1] } },
              color: { field: "measure", type: "nominal", title: null, scale: { domain: ["prompt rate", "deny rate"], range: [COLORS.step_up, COLORS.deny] } },
            },
          }),
    columns: [keyName, "decisions", "step_up", "prompt rate", "deny", "deny rate"],
    rows: rows.map((r) => [r.key, r.decisions, r.step_up, pct(r.prompt_rate), r.deny, pct(r.deny_rate)]),
  };
}

function promptReasons(report: ReviewReport): ChartSection {
  const rows = report.prompt_reasons;
  return {
    id: "prompt-reasons",
    title: "Reasons behind prompts",
    note: "The reason codes given with step-up decisions; a decision counts once for each of its reasons.",
    spec:
      rows.length === 0
        ? undefined
        : base(Math.max(60, rows.length * 20), rows, {
            mark: { type: "bar", tooltip: true, color: COLORS.step_up },
            encoding: {
              y: { field: "reason", type: "nominal", sort: rows.map((r) => r.reason), title: null },
              x: { field: "decisions", type: "quantitative", title: "step-up decisions" },
            },
          }),
    columns: ["reason", "step-up decisions", "share of step-ups"],
    rows: rows.map((r) => [r.reason, r.decisions, pct(r.share)]),
  };
}

function exceptions(report: ReviewReport): ChartSection {
  const rows = report.exceptions;
  // The eight subjects with the most uses keep their own colour; the rest share one.
  const totals = new Map<string, number>();
  for (const e of rows) for (const s of e.subjects) totals.set(s.subject, (totals.get(s.subject) ?? 0) + s.uses);
  const named = new Set([...totals].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([s]) => s));
  const values = rows.flatMap((e) => e.subjects.map((s) => ({ exception: e.id, subject: named.has(s.subject) ? s.subject : "others", uses: s.uses })));
  const expiry = (e: (typeof rows)[number]) => {
    const date = new Date(e.expires_at * 1000).toISOString().slice(0, 16).replace("T", " ");
    return e.expired ? `${date} (expired)` : e.expires_soon ? `${date} (within 7 days)` : date;
  };
  return {
    id: "exceptions",
    title: "Exceptions used, by whom, and until when",
    note: "Every use of an exception is logged for review; the bars show each exception's uses by subject.",
    spec:
      rows.length === 0
        ? undefined
        : base(Math.max(60, rows.length * 28), values, {
            mark: { type: "bar", tooltip: true },
            encoding: {
              y: { field: "exception", type: "nominal", sort: rows.map((e) => e.id), title: null },
              x: { field: "uses", type: "quantitative", stack: true, title: "uses" },
              color: { field: "subject", type: "nominal", title: "subject", scale: { scheme: "tableau10" } },
            },
          }),
    columns: ["exception", "kind", "approver", "expires (UTC)", "uses", "by"],
    rows: rows.map((e) => [e.id, e.kind, e.approver, expiry(e), e.uses, e.subjects.map((s) => `${s.subject} ×${s.uses}`).join(", ")]),
  };
}

function transitions(report: ReviewReport): ChartSection {
  const rows = report.comparison?.transitions ?? [];
  const order = ["allow", "step_up", "deny"];
  const darkFrom = Math.sqrt(Math.max(0, ...rows.map((t) => t.decisions)));
  return {
    id: "transitions",
    title: "Transitions: enforced outcome → candidate's outcome",
    note: "Every pair, unchanged ones on the diagonal.",
    spec:
      rows.length === 0
        ? undefined
        : base(180, rows, {
            width: 300,
            encoding: {
              x: { field: "to", type: "nominal", sort: order, title: "candidate", axis: { orient: "top", labelAngle: 0 } },
              y: { field: "from", type: "nominal", sort: order, title: "enforced" },
            },
            layer: [
              { mark: { type: "rect", tooltip: true }, encoding: { color: { field: "decisions", type: "quantitative", title: "decisions", scale: { scheme: "blues", type: "symlog" } } } },
              {
                mark: { type: "text", fontSize: 13 },
                encoding: {
                  text: { field: "decisions", type: "quantitative", format: "," },
                  // Light text on the darker half of the scale.
                  color: { condition: { test: `datum.decisions > ${darkFrom}`, value: "white" }, value: "#1b1b1b" },
                },
              },
            ],
          }),
    columns: ["enforced", "candidate", "decisions"],
    rows: rows.map((t) => [t.from, t.to, t.decisions]),
  };
}

function affected(id: string, title: string, note: string, keyName: string, rows: readonly AffectedRow[]): ChartSection {
  const values = rows.flatMap((r) => [
    { key: r.key, direction: "stricter", decisions: r.stricter },
    { key: r.key, direction: "more lenient", decisions: r.more_lenient },
  ]);
  return {
    id,
    title,
    note,
    spec:
      rows.length === 0
        ? undefined
        : base(Math.max(60, rows.length * 22), values, {
            mark: { type: "bar", tooltip: true },
            encoding: {
              y: { field: "key", type: "nominal", sort: rows.map((r) => r.key), title: null },
              x: { field: "decisions", type: "quantitative", stack: true, title: "decisions changed" },
              color: { field: "direction", type: "nominal", title: null, scale: { domain: ["stricter", "more lenient"], range: [COLORS.stricter, COLORS.lenient] } },
            },
          }),
    columns: [keyName, "decisions", "changed", "stricter", "more lenient"],
    rows: rows.map((r) => [r.key, r.decisions, r.changed, r.stricter, r.more_lenient]),
  };
}

/** JSON inside a script element: `<` escaped, so that no value can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

const STYLE = `
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5b5b5b; --rule: #d9d9d9; --band: #f6f6f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--rule); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 4px; }
.kind { font-size: 15px; margin: 0 0 2px; }
.meta, .note { color: var(--muted); margin: 0 0 10px; font-size: 12.5px; }
section { padding: 16px 0; border-bottom: 1px solid var(--rule); }
.summary { background: var(--band); border-left: 4px solid #0072B2; padding: 10px 14px; font-size: 14.5px; }
.summary p { margin: 2px 0; }
.summary .n { font-weight: 600; font-variant-numeric: tabular-nums; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { flex: 0 0 auto; min-width: ${WIDTH + 80}px; }
table.numbers { border-collapse: collapse; font-size: 12.5px; flex: 1 1 320px; max-width: 600px; }
table.numbers th, table.numbers td { padding: 3px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
table.numbers th { font-weight: 600; background: var(--band); }
table.numbers td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); font-style: italic; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 11px; }
  header, main { max-width: none; padding: 0; }
  section { break-inside: avoid; page-break-inside: avoid; }
  .row { flex-wrap: nowrap; }
  .summary { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
