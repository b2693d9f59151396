/**
 * Every CLI failure ends with a documented code and exit status. `EISDIR` once left with the
 * system's code and status 1, a truncated `.gz` log with zlib's `Z_BUF_ERROR`, `stepup schema
 * nope` and a bad `--timeout` with no code at all. Here each failure a person can cause is caused
 * through the built CLI, and its line on stderr and its status are checked against
 * docs/errors.md: the code is one of the registry's, the status the one the page gives it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { USAGE_CODES } from "../src/cli/io.js";
import { ERROR_CODES } from "../src/errors.js";
import { runCli, scenarios } from "./helpers.js";

let dir: string;
let good: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-cli-failures-"));
  await mkdir(join(dir, "folder"));
  good = join(dir, "good.json");
  await writeFile(good, JSON.stringify((await scenarios())[0]!.input));
  const log = gzipSync(Buffer.from('{"decision_id":"x"}\n'.repeat(200)));
  await writeFile(join(dir, "truncated.ndjson.gz"), log.subarray(0, log.length - 12));
  await writeFile(join(dir, "not-gzip.ndjson.gz"), "plain text, not gzip\n");
  const bundle = await readFile(inject("bundlePath"));
  await writeFile(join(dir, "truncated.tar.gz"), bundle.subarray(0, bundle.length >> 1));
  await writeFile(join(dir, "settings.json"), "{}");
  busy = createServer();
  busyPort = await new Promise<number>((resolve) => busy.listen(0, "127.0.0.1", () => resolve((busy.address() as { port: number }).port)));
});

afterAll(async () => {
  await new Promise((resolve) => busy?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The documented status of a code: 2 for the caller's mistakes, 1 for the rest. */
const statusOf = (code: string) => (USAGE_CODES.has(code) ? 2 : 1);

const p = (name: string) => join(dir, name);

const CASES: { name: string; args: () => string[]; stdin?: string; code: string; says?: RegExp }[] = [
  { name: "an input that is a folder (EISDIR)", args: () => ["eval", p("folder")], code: "ERR_FILE_UNREADABLE", says: /folder.*is a folder, not a file \(EISDIR\)/ },
  { name: "an input that does not exist", args: () => ["eval", p("missing.json")], code: "ERR_FILE_UNREADABLE", says: /missing\.json cannot be read: it does not exist \(ENOENT\)/ },
  { name: "a batch input that is a folder", args: () => ["batch", p("folder")], code: "ERR_FILE_UNREADABLE" },
  { name: "a truncated .gz log to replay", args: () => ["replay", p("truncated.ndjson.gz"), "--against", inject("bundlePath")], code: "ERR_FILE_UNREADABLE", says: /gzip file.*cut short or corrupt/ },
  { name: "a .gz log that is not gzip", args: () => ["replay", p("not-gzip.ndjson.gz"), "--store", p("store")], code: "ERR_FILE_UNREADABLE" },
  { name: "a truncated .gz log to review", args: () => ["review", p("truncated.ndjson.gz"), "--since", "7d"], code: "ERR_FILE_UNREADABLE" },
  { name: "a log that does not exist", args: () => ["replay", p("missing.ndjson"), "--against", inject("bundlePath")], code: "ERR_FILE_UNREADABLE" },
  { name: "a verification key that is a folder", args: () => ["bundle", "verify", inject("bundlePath"), "--verification-key", p("folder")], code: "ERR_FILE_UNREADABLE" },
  { name: "a token file that does not exist", args: () => ["bundle", "serve", dir, "--port", "0", "--token-file", p("missing")], code: "ERR_FILE_UNREADABLE" },
  { name: "a truncated bundle", args: () => ["eval", good, "--bundle", p("truncated.tar.gz")], code: "ERR_BUNDLE_INVALID" },
  { name: "a bundle that does not exist", args: () => ["eval", good, "--bundle", p("missing.tar.gz")], code: "ERR_BUNDLE_NOT_FOUND" },
  { name: "input that is not JSON", args: () => ["eval", "-"], stdin: "{nope", code: "ERR_INPUT_NOT_JSON" },
  { name: "an unknown contract", args: () => ["schema", "nope"], code: "ERR_USAGE", says: /no contract nope/ },
  { name: "an unknown command", args: () => ["nosuch"], code: "ERR_USAGE", says: /unknown command 'nosuch'/ },
  { name: "an option value that is not a number", args: () => ["batch", "-", "--workers", "abc"], code: "ERR_USAGE" },
  { name: "a timeout that is not a number", args: () => ["eval", good, "--sidecar", "http://127.0.0.1:9", "--timeout", "abc"], code: "ERR_USAGE" },
  { name: "a sidecar that is not a URL", args: () => ["eval", good, "--sidecar", "not a url"], code: "ERR_USAGE" },
  { name: "--bundle with --sidecar", args: () => ["eval", good, "--sidecar", "http://127.0.0.1:9", "--bundle", inject("bundlePath")], code: "ERR_USAGE" },
  { name: "a port out of range", args: () => ["bundle", "serve", dir, "--port", "99999999"], code: "ERR_USAGE" },
  { name: "a port in use, for the bundle server", args: () => ["bundle", "serve", dir, "--port", String(busyPort)], code: "ERR_LISTEN_FAILED", says: /in use \(EADDRINUSE\)/ },
  { name: "a port in use, for the ext_authz server", args: () => ["envoy", "serve", "--settings", p("settings.json"), "--port", String(busyPort), "--no-geo", "--memory-store"], code: "ERR_LISTEN_FAILED" },
];

describe("CLI failures", () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.code}, exit ${statusOf(c.code)}`, async () => {
      const result = await runCli(c.args(), c.stdin);
      const codes = [...result.stderr.matchAll(/^stepup: (ERR_[A-Z_]+): /gm)].map((m) => m[1]);
      expect(codes, result.stderr).toEqual([c.code]);
      expect(ERROR_CODES).toContain(c.code);
      if (c.says) expect(result.stderr).toMatch(c.says);
      expect(result.code, result.stderr).toBe(statusOf(c.code));
    });
  }

  it("exits 2 for exactly the codes docs/errors.md lists as the caller's mistakes", async () => {
    const doc = await readFile("docs/errors.md", "utf8");
    const section = doc.slice(doc.indexOf("- **2**"), doc.indexOf("- **1**"));
    const documented = [...section.matchAll(/`(ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...USAGE_CODES].sort());
  });
});
