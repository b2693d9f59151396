/**
 * Done when (issue 29): the HTML review of the scenario corpus's decision log and of a what-if
 * opens in headless Chromium — Debian's, driven by playwright-core, never a downloaded browser —
 * without console errors or network requests, every chart renders marks, and the summary's
 * numbers equal `stepup review --json`. Screenshots (and a printed PDF) go to the test output,
 * `.tools/test-output/review/` (git-ignored). `scripts/system-packages.sh` installs Chromium; a
 * machine without it skips this suite, except under CI=true, where it fails.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import type { ReviewReport } from "../../src/audit/review-report.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios } from "../helpers.js";
import { weightRaisedBundle } from "../support/bundles.js";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const OUT = resolve(".tools/test-output/review");
const present = existsSync(CHROMIUM);

describe.skipIf(!present && process.env.CI !== "true")("the review page in headless Chromium", () => {
  let dir: string;
  let log: string;
  let candidatePath: string;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-review-page-"));
    await mkdir(OUT, { recursive: true });
    log = join(dir, "decisions.ndjson");
    // The scenario corpus, decided once and logged by the file sink.
    const logger = new DecisionLogger({ sinks: [new FileSink({ path: log, spoolDir: join(dir, "spool") })], onReview: () => {} });
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision, onError: () => {} });
    for (const scenario of await scenarios()) stepup.decide(scenario.input);
    await logger.close();
    candidatePath = (await weightRaisedBundle(dir, "candidate-review")).path;
    // A fresh profile, no downloads: Debian's Chromium with the flags that keep it off the network.
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1366, height: 900 },
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openReview(name: string, extra: string[]) {
    const html = join(dir, `${name}.html`);
    const written = await runCli(["review", log, ...extra, "--html", html]);
    expect(written.code, written.stderr).toBe(0);
    const json = await runCli(["review", log, ...extra, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as ReviewReport;

    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    const url = `file://${html}`;
    page.on("request", (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: "load" });
    const charts = await page.locator(".chart").count();
    // vega-embed renders each chart into an SVG; wait until every one has drawn.
    await page.waitForFunction(`document.querySelectorAll(".chart svg").length === ${charts}`, undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    await page.screenshot({ path: join(OUT, `${name}-full.png`), fullPage: true });
    await page.emulateMedia({ media: "print" });
    const pdf = await page.pdf({ path: join(OUT, `${name}.pdf`), format: "A4", landscape: true, printBackground: true });
    const marks = await page.$$eval(".chart", (els) => els.map((el) => ({ id: el.id, marks: el.querySelectorAll("svg .role-mark > *").length })));
    const summary = await page.$$eval("#summary [data-key]", (els) =>
      els.map((el) => ({ key: el.getAttribute("data-key")!, value: el.getAttribute("data-value")!, text: el.textContent! })),
    );
    const summaryText = await page.locator("#summary .summary").innerText();
    const external = await page.locator("script[src], link[href], img[src], iframe, object, embed").count();
    await page.close();
    return { report, problems, requests, charts, marks, summary, summaryText, pdf, external, html: await readFile(html, "utf8") };
  }

  function expectSummaryEqualsJson(summary: { key: string; value: string; text: string }[], report: ReviewReport) {
    const numbers = report.summary as unknown as Record<string, number>;
    expect(new Set(summary.map((s) => s.key))).toEqual(new Set(Object.keys(numbers)));
    for (const { key, value, text } of summary) {
      expect(Number(value), key).toBe(numbers[key]);
      const shown = key.endsWith("_rate") ? `${(numbers[key]! * 100).toFixed(1)} %` : numbers[key]!.toLocaleString("en-US");
      expect(text, key).toBe(shown);
    }
  }

  it("opens the review of the scenario corpus's log: no console error, no request, every chart drawn", async () => {
    const page = await openReview("corpus", []);
    expect(page.problems).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.report.kind).toBe("window");
    const corpus = await scenarios();
    expect(page.report.summary.decisions).toBe(corpus.length);
    expect(page.report.summary.allow + page.report.summary.step_up + page.report.summary.deny).toBe(corpus.length);
    // Outcomes over time, rates by tier, app and signal, prompt reasons, exceptions: all have data here.
    expect(page.marks.map((m) => m.id)).toEqual([
      "chart-outcomes-over-time",
      "chart-by-tier",
      "chart-by-app",
      "chart-by-signal",
      "chart-prompt-reasons",
      "chart-exceptions",
    ]);
    for (const chart of page.marks) expect(chart.marks, chart.id).toBeGreaterThan(0);
    expectSummaryEqualsJson(page.summary, page.report);
    // The page's summary reads as the text review's does, line for line.
    const text = await runCli(["review", log]);
    const shown = page.summaryText.split("\n").filter((l) => l.trim() !== "");
    expect(text.stdout.split("\n").slice(0, shown.length)).toEqual(shown);
    expect(page.pdf.subarray(0, 5).toString()).toBe("%PDF-");
    // Self-contained: no element that loads anything, and a policy that would refuse it anyway.
    expect(page.external).toBe(0);
    expect(page.html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none';`);
  });

  it("opens the review of a what-if, with its transitions and the subjects and apps most affected", async () => {
    const page = await openReview("what-if", ["--against", candidatePath]);
    expect(page.problems).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.report.kind).toBe("what_if");
    expect(page.report.summary.changed).toBeGreaterThan(0);
    expect(page.marks.map((m) => m.id)).toEqual(
      expect.arrayContaining(["chart-transitions", "chart-subjects", "chart-apps", "chart-outcomes-over-time"]),
    );
    expect(page.marks).toHaveLength(page.charts);
    for (const chart of page.marks) expect(chart.marks, chart.id).toBeGreaterThan(0);
    expectSummaryEqualsJson(page.summary, page.report);
    // The transitions add up to the decisions compared.
    const transitions = page.report.comparison!.transitions.reduce((n, t) => n + t.decisions, 0);
    expect(transitions).toBe(page.report.summary.compared);
  });

  it("escapes what the logs hold, so a hostile subject id stays text", async () => {
    const hostile = join(dir, "hostile.ndjson");
    const line = JSON.parse((await readFile(log, "utf8")).split("\n")[0]!);
    const attack = `</script><script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`;
    line.input.subject.id = attack;
    line.input.target.app = attack;
    line.result.outcome = "step_up";
    await writeFile(hostile, `${JSON.stringify(line)}\n`);
    const html = join(dir, "hostile.html");
    expect((await runCli(["review", hostile, "--html", html])).code).toBe(0);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`file://${html}`);
    await page.waitForFunction("document.querySelectorAll('.chart svg').length > 0");
    expect(await page.title()).toBe("stepup review");
    // Shown as text in the app table, drawn as text in the app chart.
    expect(await page.locator("#by-app table").innerText()).toContain(attack);
    expect(await page.locator("#chart-by-app svg").textContent()).toContain("</script>");
    expect(requests).toEqual([`file://${html}`]);
    await page.close();
  });
});
