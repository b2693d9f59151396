// Copies the latest benchmark table (bench/results/latest.md, written by `make bench`) into
// README.md between the bench markers, so the README shows the latest figures and the machine
// they came from. Run by `make bench-readme`.
import { readFile, writeFile } from "node:fs/promises";

const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

const table = (await readFile("bench/results/latest.md", "utf8")).trim();
const readme = await readFile("README.md", "utf8");
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} section`);
// The suites' own headings become one level deeper inside the README's section.
const body = table.replace(/^### /gm, "#### ");
await writeFile("README.md", `${readme.slice(0, from + START.length)}\n${body}\n${readme.slice(to)}`);
process.stdout.write("README.md: benchmark table updated from bench/results/latest.md\n");
