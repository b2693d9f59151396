// Copies Envoy's ext_authz v3 protos and every file they import into protos/, from the copies
// @grpc/grpc-js-xds (a development dependency) ships, so the package carries the few files its
// server loads instead of an xDS client. Run after changing that package's version; a test
// (test/envoy/vendored-protos.test.ts) fails while protos/ differs from it.
// usage: node scripts/vendor-protos.mjs [--check]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
const SOURCES = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"];
const ROOT = "envoy/service/auth/v3/external_auth.proto";
const OUT = "protos";

/** The protos ROOT needs, by path, with the source folder each comes from. google/protobuf/* comes with protobufjs. */
export function closure() {
  const found = new Map();
  const queue = [ROOT];
  while (queue.length > 0) {
    const path = queue.shift();
    if (found.has(path) || path.startsWith("google/protobuf/")) continue;
    const source = SOURCES.find((s) => existsSync(join(deps, s, path)));
    if (!source) throw new Error(`${path}: in none of ${SOURCES.join(", ")}`);
    const text = readFileSync(join(deps, source, path), "utf8");
    found.set(path, { source, text });
    for (const [, imported] of text.matchAll(/^import\s+(?:public\s+)?"([^"]+)";/gm)) queue.push(imported);
  }
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = closure();
  if (process.argv.includes("--check")) {
    const stale = [...files].filter(([path, { text }]) => !existsSync(join(OUT, path)) || readFileSync(join(OUT, path), "utf8") !== text);
    if (stale.length > 0) {
      console.error(`protos/ differs from @grpc/grpc-js-xds: ${stale.map(([p]) => p).join(", ")}; run node scripts/vendor-protos.mjs`);
      process.exit(1);
    }
  } else {
    for (const dir of ["envoy", "xds", "udpa", "validate", "google"]) rmSync(join(OUT, dir), { recursive: true, force: true });
    for (const [path, { text }] of files) {
      mkdirSync(dirname(join(OUT, path)), { recursive: true });
      writeFileSync(join(OUT, path), text);
    }
    const counts = {};
    for (const { source } of files.values()) counts[source] = (counts[source] ?? 0) + 1;
    console.log(Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join(", "));
  }
}
