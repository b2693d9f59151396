// Loads one address list file in a fresh process (dist/, as users run it) and reports how long it
// took (wall clock and CPU time) and what it cost in memory: RSS before, the peak RSS while loading (the kernel's high-water
// mark), and RSS once the text is collected. Prints one JSON line.
// usage: node --expose-gc address-list.mjs <list file>
const { loadList } = await import("../../dist/index.js");
const [file] = process.argv.slice(2);
global.gc();
const before = process.memoryUsage().rss;
const peakBefore = process.resourceUsage().maxRSS * 1024;
const cpu = process.cpuUsage();
const start = performance.now();
const list = await loadList({ file, reputation: "malicious" });
const ms = performance.now() - start;
const { user, system } = process.cpuUsage(cpu);
const peak = process.resourceUsage().maxRSS * 1024;
global.gc();
const after = process.memoryUsage().rss;
if (!list.ips || list.ips.has("0.0.0.1") === undefined) throw new Error("no address set");
process.stdout.write(`${JSON.stringify({ entries: list.entries, ms, cpu_ms: (user + system) / 1000, rss_before: before, peak_before: peakBefore, peak, rss_after: after })}\n`);
