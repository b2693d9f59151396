// Loads one bundle and its signal sources (an address list and an ASN list) in a fresh process
// (dist/, as users run it) and reports the resident memory once they are loaded and collected
// garbage is gone, beside the process's RSS before. Prints one JSON line.
// usage: node --expose-gc scaling.mjs <bundle> <address list> <asn list>
const { Stepup, loadList } = await import("../../dist/index.js");
const [bundle, addresses, asns] = process.argv.slice(2);
global.gc();
const before = process.memoryUsage().rss;
const stepup = await Stepup.load(bundle);
const lists = [await loadList({ file: addresses, reputation: "malicious" }), await loadList({ file: asns, kind: "asn", anonymizer: "hosting" })];
global.gc();
const after = process.memoryUsage().rss;
if (!stepup.revision || lists.some((l) => l.entries === 0)) throw new Error("nothing loaded");
process.stdout.write(`${JSON.stringify({ rss_before: before, rss: after })}\n`);
