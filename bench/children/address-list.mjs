// Loads one address list file in a fresh process (dist/, as users run it) and reports how long it
// took (wall clock and CPU time) and what it cost in memory: RSS before, the peak RSS while
// loading, and RSS once the text is collected. Prints one JSON line.
// usage: node --expose-gc address-list.mjs <list file>
import { readFileSync } from "node:fs";

const { loadList } = await import("../../dist/index.js");
const [file] = process.argv.slice(2);
global.gc();
const before = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const start = performance.now();
const list = await loadList({ file, reputation: "malicious" });
const ms = performance.now() - start;
const { user, system } = process.cpuUsage(cpu);
const peak = peakRss();
global.gc();
const after = process.memoryUsage().rss;
if (!list.ips || list.ips.has("0.0.0.1") === undefined) throw new Error("no address set");
process.stdout.write(`${JSON.stringify({ entries: list.entries, ms, cpu_ms: (user + system) / 1000, rss_before: before, peak, rss_after: after })}\n`);

/**
 * This process's peak RSS: Linux's high-water mark of its own memory (VmHWM), which starts anew
 * at exec. Not getrusage's maxRSS: Linux carries that over exec from the process that spawned
 * this one, so a benchmark process larger than the load showed as its peak.
 */
function peakRss() {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  if (!hwm) throw new Error("no VmHWM in /proc/self/status: the peak RSS is read from Linux's process status");
  return Number(hwm[1]) * 1024;
}
