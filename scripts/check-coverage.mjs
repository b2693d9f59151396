// Fails when `opa test --coverage` reports less than the minimum for the policy (tests excluded).
import { readFileSync } from "node:fs";

const [file, min] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, "utf8"));
let covered = 0;
let total = 0;
for (const [name, f] of Object.entries(report.files)) {
  if (name.endsWith("_test.rego")) continue;
  const count = (ranges) => (ranges ?? []).reduce((n, r) => n + r.end.row - r.start.row + 1, 0);
  covered += count(f.covered);
  total += count(f.covered) + count(f.not_covered);
  for (const r of f.not_covered ?? []) console.log(`not covered: ${name}:${r.start.row}-${r.end.row}`);
}
const percent = total === 0 ? 0 : (100 * covered) / total;
console.log(`rego coverage ${percent.toFixed(1)}% of ${total} lines (minimum ${min}%)`);
if (percent < Number(min)) process.exit(1);
