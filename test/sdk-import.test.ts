/**
 * Importing the SDK loads only what deciding needs: the integrations' own code (the Envoy server,
 * the signals, the fleet client, audit…) loads from integrations.js when one is first used
 * (scripts/lazy-entry.mjs); the integrations' dependencies (axios for the
 * sidecar client, bundle polling and the HTTP log sink; ioredis; gRPC and protobufjs for the Envoy
 * server; prom-client; maxmind; path-to-regexp; jose; bowser for the behaviour profile;
 * openid-client and cookie for the step-up login; minimatch for signature exclusions) load when an integration is
 * first used (src/lazy.ts), and OpenTelemetry's API once an application registers a tracer provider.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { describe, expect, inject, it } from "vitest";
import { libraryEntries } from "../scripts/lazy-entry.mjs";

const run = promisify(execFile);
const DEFERRED = ["axios", "ioredis", "@grpc/grpc-js", "protobufjs", "grpc-health-check", "prom-client", "maxmind", "path-to-regexp", "jose", "bowser", "openid-client", "cookie", "minimatch", "@opentelemetry/api"];

describe("importing the SDK", () => {
  it("imports none of the integrations' dependencies statically", async () => {
    // The library as scripts/build.mjs bundles it: every package it imports at the top is loaded with it.
    const { metafile } = await build({
      entryPoints: ["src/index.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      packages: "external",
      write: false,
      outdir: "unused",
      metafile: true,
      logLevel: "silent",
    });
    const imported = Object.values(metafile.outputs).flatMap((output) =>
      output.imports.filter((i) => i.external && i.kind === "import-statement").map((i) => i.path),
    );
    expect(imported).toContain("zod");
    for (const name of DEFERRED) expect(imported, name).not.toContain(name);
    // ajv is a development dependency: its code for the verdict check is generated (scripts/contract-code.ts).
    expect(imported.filter((path) => path === "ajv" || path.startsWith("ajv/"))).toEqual([]);
  });

  it("loads them when an integration is made", async () => {
    // A fresh process on the bundled library: CommonJS packages it has loaded are in require's cache.
    const lib = JSON.stringify(resolve(inject("libPath")));
    const source = `
      const sdk = await import(${lib});
      const { createRequire } = await import("node:module");
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).join("\\n");
      const before = loaded();
      const stepup = await sdk.Stepup.load(${JSON.stringify(resolve(inject("bundlePath")))});
      const { readFileSync } = await import("node:fs");
      stepup.decide(JSON.parse(readFileSync("scenarios/managed-laptop-corporate-wiki.json", "utf8")).input);
      const decided = loaded();
      new sdk.StepupMetrics();
      new sdk.RemoteEngine({ url: "http://127.0.0.1:1" });
      console.log(JSON.stringify({ before, decided, after: loaded() }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", source]);
    const { before, decided, after } = JSON.parse(stdout) as { before: string; decided: string; after: string };
    // A decision with no tracer provider registered needs no OpenTelemetry (test/audit/tracing.test.ts has one registered).
    expect(decided).not.toContain("/node_modules/@opentelemetry/api/");
    for (const name of ["prom-client", "axios"]) {
      expect(before, name).not.toContain(`/node_modules/${name}/`);
      expect(after, name).toContain(`/node_modules/${name}/`);
    }
  }, 30_000);

  it("compiles none of the integrations' code: their classes and functions are not in what the entry imports", async () => {
    const { lazy } = await libraryEntries(process.cwd());
    expect(lazy).toContain("ExtAuthzServer");
    expect(lazy).not.toContain("Stepup");
    // The files the entry imports, transitively, as the suites' build writes them (unminified).
    const entry = resolve(inject("libPath"));
    const reached = new Map<string, string>();
    const visit = async (file: string): Promise<void> => {
      if (reached.has(file)) return;
      const text = await readFile(file, "utf8");
      reached.set(file, text);
      for (const [, path] of text.matchAll(/\bfrom\s*"(\.\/[^"]+\.js)"/g)) await visit(join(dirname(file), path!));
    };
    await visit(entry);
    expect([...reached.keys()].map((file) => file.slice(dirname(entry).length + 1))).not.toContain("integrations.js");
    const text = [...reached.values()].join("\n");
    for (const name of lazy) expect(text, name).not.toMatch(new RegExp(`(class|function\\*?) ${name}\\b`));
  });

  it("loads a bundle and decides without integrations.js or zod.js, which load when an integration or zod is first used", async () => {
    // The suites' build with integrations.js and zod.js replaced by modules that fail when
    // evaluated, inside the project so that its packages resolve from node_modules.
    const build = dirname(resolve(inject("libPath")));
    const copy = await mkdtemp(join(resolve(".tools"), "no-integrations-"));
    try {
      await cp(build, copy, { recursive: true });
      for (const part of ["integrations", "zod"]) await writeFile(join(copy, `${part}.js`), `throw new Error("${part}.js was evaluated");\n`);
      const source = `
        const sdk = await import(${JSON.stringify(join(copy, "index.js"))});
        const { readFileSync } = await import("node:fs");
        const stepup = await sdk.Stepup.load(${JSON.stringify(resolve(inject("bundlePath")))});
        const decision = stepup.decide(JSON.parse(readFileSync("scenarios/managed-laptop-corporate-wiki.json", "utf8")).input);
        const attempt = (use) => { try { use(); return "done"; } catch (err) { return err.message; } };
        const integration = attempt(() => new sdk.StepupMetrics());
        // A document that breaks the contract: zod names its problems.
        const zod = attempt(() => sdk.parseInput({}));
        console.log(JSON.stringify({ outcome: decision.outcome, failed: decision.error?.code ?? null, integration, zod }));`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", source]);
      expect(JSON.parse(stdout)).toEqual({ outcome: "allow", failed: null, integration: "integrations.js was evaluated", zod: "zod.js was evaluated" });
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 30_000);
});
