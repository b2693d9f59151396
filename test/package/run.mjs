// The package as users meet it: `npm pack`, installed into fresh apps outside the repository
// (from the local npm cache where it can), then the README's SDK example verbatim, the CLI, and
// the types under strict settings without skipLibCheck — ESM, CommonJS, with and without the
// optional express/fastify peers. Run by `make test-package` (and so by `make test`) after
// `make build`; every step is bounded in time and a failure ends the run with status 1.
// usage: node test/package/run.mjs [--keep]
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const work = mkdtempSync(join(tmpdir(), "stepup-package-"));
const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
const nodeTypes = join(repo, "node_modules", "@types");
const MINUTE = 60_000;
let failures = 0;

async function sh(cwd, file, args, { timeout = MINUTE, env = {}, expectCode = 0 } = {}) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, timeout, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    if (expectCode !== 0) throw new Error(`${file} ${args.join(" ")}: exited 0, expected ${expectCode}`);
    return { stdout, stderr, code: 0 };
  } catch (err) {
    if (err.code === expectCode) return { stdout: err.stdout, stderr: err.stderr, code: err.code };
    throw new Error(`${file} ${args.join(" ")} (in ${cwd}) exited ${err.code ?? err.signal}:\n${err.stdout ?? ""}${err.stderr ?? err.message}`);
  }
}

async function step(name, fn) {
  const start = Date.now();
  try {
    const note = await fn();
    console.log(`ok   ${name}${note ? ` — ${note}` : ""} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}\n${String(err.message ?? err).replace(/^/gm, "     ")}`);
  }
}

function expect(ok, message) {
  if (!ok) throw new Error(message);
}

/** The README's SDK example, between its marker and the end of its code block. */
function readmeExample() {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const match = /<!-- sdk-example:[^\n]*-->\n```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error("README.md has no <!-- sdk-example --> block");
  return match[1];
}

/** Names of every package in an `npm ls --all --json` tree. */
function names(tree, into = new Set()) {
  for (const [name, dep] of Object.entries(tree.dependencies ?? {})) {
    into.add(name);
    names(dep, into);
  }
  return into;
}

function du(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

const npmInstall = (cwd, specs) => sh(cwd, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...specs], { timeout: 5 * MINUTE });

function app(dir, pkg) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ private: true, ...pkg }, null, 2)}\n`);
  return dir;
}

function tsconfig(dir, compilerOptions, include) {
  const base = { strict: true, skipLibCheck: false, noEmit: true, target: "ES2022", lib: ["ES2022"], types: ["node"], typeRoots: [nodeTypes] };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, include }, null, 2));
}

let tarball;
await step("npm pack", async () => {
  const { stdout } = await sh(repo, "npm", ["pack", "--json", "--pack-destination", work], { timeout: 2 * MINUTE });
  const [packed] = JSON.parse(stdout);
  tarball = join(work, packed.filename);
  const files = packed.files.map((f) => f.path);
  for (const needed of ["LICENSE", "dist/index.js", "dist/cli.js", "dist/types/index.d.ts", "dist/cjs/index.d.ts", "bundles/stepup.tar.gz", "protos/envoy/service/auth/v3/external_auth.proto", "rego/stepup/target/target.rego", "scenarios/break-glass-admin.json"]) {
    expect(files.includes(needed), `the package lacks ${needed}`);
  }
  expect(!files.some((f) => f.endsWith("_test.rego") || f.endsWith(".map") || f.startsWith("bundles/store")), "the package holds test, map or store files");
  return `${packed.filename}, ${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024 / 1024).toFixed(1)} MiB unpacked`;
});
if (!tarball) process.exit(1);

// Without the optional peers: an ES module app and a CommonJS app under one node_modules.
const plain = app(join(work, "plain"), { name: "plain-app" });
await step("install into a fresh app (no peers)", async () => {
  await npmInstall(plain, [tarball]);
  return `node_modules ${(du(join(plain, "node_modules")) / 1024 / 1024).toFixed(1)} MiB`;
});

await step("npm ls: no gRPC xDS client, no Google auth", async () => {
  const { stdout } = await sh(plain, "npm", ["ls", "--all", "--json"], { timeout: MINUTE });
  const installed = names(JSON.parse(stdout));
  const banned = ["@grpc/grpc-js-xds", "google-auth-library", "gtoken", "node-forge", "gcp-metadata"].filter((n) => installed.has(n));
  expect(installed.has("stepup"), "npm ls does not list stepup");
  expect(banned.length === 0, `installed: ${banned.join(", ")}`);
  return `${installed.size} packages`;
});

const esm = app(join(plain, "esm"), { type: "module" });
const cjs = app(join(plain, "cjs"), { type: "commonjs" });
const example = readmeExample();

await step("README SDK example, verbatim, as an ES module", async () => {
  writeFileSync(join(esm, "example.mjs"), `${example}\nconsole.log(JSON.stringify({ outcome: decision.outcome, revision: stepup.revision }));\n`);
  const { stdout } = await sh(esm, process.execPath, ["example.mjs"]);
  const { outcome, revision } = JSON.parse(stdout.trim().split("\n").pop());
  expect(outcome === "allow", `the README's example decided ${outcome}, not allow`);
  return `allow on revision ${revision}`;
});

await step("require() from CommonJS", async () => {
  const input = { now: 1, subject: { id: "a", kind: "human" }, target: { app: "payroll", action: "read" } };
  writeFileSync(
    join(cjs, "example.cjs"),
    `const { Stepup, defaultBundlePath } = require("stepup");
const { version } = require("stepup/package.json");
Stepup.loadDefault().then((stepup) => {
  const d = stepup.decide(${JSON.stringify(input)});
  console.log(JSON.stringify({ outcome: d.outcome, version, bundle: require("node:fs").existsSync(defaultBundlePath()), resolved: require.resolve("stepup/bundles/stepup.tar.gz") === defaultBundlePath() }));
});\n`,
  );
  const { stdout } = await sh(cjs, process.execPath, ["example.cjs"]);
  const result = JSON.parse(stdout.trim().split("\n").pop());
  expect(["allow", "step_up", "deny"].includes(result.outcome) && result.bundle && result.resolved, `got ${stdout}`);
  return `version ${result.version}, ${result.outcome} (no session)`;
});

await step("npx stepup eval, scenarios, --version", async () => {
  const input = JSON.parse(readFileSync(join(repo, "scenarios", "break-glass-admin.json"), "utf8")).input;
  writeFileSync(join(esm, "input.json"), JSON.stringify(input));
  const evaluated = JSON.parse((await sh(esm, "npx", ["--no-install", "stepup", "eval", "input.json"])).stdout);
  expect(evaluated.outcome === "allow", `eval decided ${evaluated.outcome}`);
  const scenarios = (await sh(esm, "npx", ["--no-install", "stepup", "scenarios"])).stdout;
  const counts = /(\d+)\/(\d+) scenarios as expected/.exec(scenarios);
  expect(counts && counts[1] === counts[2], `scenarios: ${scenarios.split("\n").slice(-2).join(" ")}`);
  const version = JSON.parse((await sh(esm, "npx", ["--no-install", "stepup", "--version", "--json"])).stdout);
  const packaged = JSON.parse(readFileSync(join(plain, "node_modules", "stepup", "package.json"), "utf8")).version;
  expect(version.version === packaged && typeof version.bundle.revision === "string", `--version: ${JSON.stringify(version)}`);
  return `${counts[0]}; stepup ${version.version}, bundle ${version.bundle.revision}`;
});

await step("npx stepup bundle build from the packaged policy", async () => {
  // Without OPA on the PATH it says how to point at one; with $STEPUP_OPA it builds.
  const bare = await sh(esm, process.execPath, [join(plain, "node_modules", "stepup", "dist", "cli.js"), "bundle", "build", "--out", "b.tar.gz", "--optimize=none"], {
    env: { PATH: dirname(process.execPath), STEPUP_OPA: "" },
    expectCode: 1,
  });
  expect(bare.stderr.includes("STEPUP_OPA"), `no hint at $STEPUP_OPA: ${bare.stderr}`);
  const opa = join(repo, ".tools", "bin", "opa");
  const built = await sh(esm, "npx", ["--no-install", "stepup", "bundle", "build", "--out", "b.tar.gz", "--optimize=none", "--revision", "packaged"], { env: { STEPUP_OPA: opa }, timeout: 2 * MINUTE });
  expect(/^built \S*b\.tar\.gz \(revision packaged/m.test(built.stdout), built.stdout);
  return "built from node_modules/stepup/rego";
});

await step("types: ESM (NodeNext), strict, no skipLibCheck, no peers", async () => {
  writeFileSync(join(esm, "example.ts"), `${example}\nexport const outcome: "allow" | "step_up" | "deny" = decision.outcome;\n`);
  writeFileSync(
    join(esm, "typed.ts"),
    `import { Stepup, type InputDraft } from "stepup";
const stepup = await Stepup.loadDefault();
const raw: unknown = JSON.parse("{}");
stepup.decide(raw);
// @ts-expect-error a typed caller's typo is caught
stepup.decide({ now: 1, subject: { id: "a", kind: "human" }, target: { app: "x", action: "read" }, typo: 1 });
const draft: InputDraft = { now: 1, subject: { id: "a", kind: "human" }, target: { app: "x", action: "read" } };
stepup.decide(draft);
`,
  );
  tsconfig(esm, { module: "NodeNext", moduleResolution: "NodeNext" }, ["*.ts"]);
  await sh(esm, process.execPath, [tsc, "-p", "."], { timeout: 2 * MINUTE });
});

await step("types: CommonJS (Node16), strict, no skipLibCheck, no peers", async () => {
  writeFileSync(
    join(cjs, "example.ts"),
    `import { Stepup, InputInvalidError, type Decision } from "stepup";
export async function decide(): Promise<Decision> {
  const stepup = await Stepup.loadDefault();
  try {
    return stepup.decide({ now: 1, subject: { id: "a", kind: "human" }, target: { app: "payroll", action: "read" } });
  } catch (err) {
    if (err instanceof InputInvalidError) throw new Error(err.issues.map((i) => i.path).join(", "));
    throw err;
  }
}
`,
  );
  tsconfig(cjs, { module: "Node16", moduleResolution: "Node16" }, ["*.ts"]);
  await sh(cjs, process.execPath, [tsc, "-p", "."], { timeout: 2 * MINUTE });
});

// With the optional peers: the integrations' types against Express's and Fastify's own.
const peers = app(join(work, "peers"), { name: "peers-app", type: "module" });
await step("types with express and fastify installed", async () => {
  const devVersion = (name) => JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).devDependencies[name];
  await npmInstall(peers, [tarball, `express@${devVersion("express")}`, `@types/express@${devVersion("@types/express")}`, `fastify@${devVersion("fastify")}`]);
  writeFileSync(
    join(peers, "app.ts"),
    `import express from "express";
import Fastify from "fastify";
import type {} from "stepup/fastify";
import { Guard, Signals, Stepup, stepupExpress, stepupExpressErrors, stepupFastify } from "stepup";
const guard = new Guard(await Stepup.loadDefault(), await Signals.create({ geo: false }));
const app = express();
app.post("/admin", stepupExpress(guard, { target: { app: "admin-console", action: "admin" } }), (req, res) => {
  res.json({ decision: req.stepup?.decision?.decision_id });
});
app.use(stepupExpress(guard));
app.use(stepupExpressErrors());
const fastify = Fastify();
await fastify.register(stepupFastify, { guard });
fastify.get("/x", { config: { stepup: { app: "payroll", action: "read" } } }, async (request) => request.stepup?.answer.status);
`,
  );
  tsconfig(peers, { module: "NodeNext", moduleResolution: "NodeNext" }, ["*.ts"]);
  await sh(peers, process.execPath, [tsc, "-p", "."], { timeout: 2 * MINUTE });
});

if (process.argv.includes("--keep")) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(failures === 0 ? "package test: all steps passed" : `package test: ${failures} step(s) failed`);
process.exit(failures === 0 ? 0 : 1);
