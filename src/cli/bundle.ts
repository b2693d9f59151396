/** The `stepup bundle …` commands: build, sign, verify and serve bundles in OPA's format. */
import { readFile, writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { buildBundle } from "../bundle/build.js";
import { loadBundle } from "../bundle/load.js";
import { serveBundles } from "../fleet/serve.js";
import { DEFAULT_KEY_ID, signArchive, type SignOptions } from "../bundle/sign.js";
import { BundleVerifier } from "../bundle/verify.js";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "../contracts/signing.js";
import { UsageError } from "../errors.js";
import { print } from "./output.js";
import { packageRoot } from "../paths.js";
import { OPTIMIZE_LEVELS, type OptimizeLevel } from "../wasm/rewrite/optimize.js";

const ALGORITHMS = `one of ${SIGNING_ALGORITHMS.join(", ")}`;

interface SigningFlags {
  signingKey?: string;
  signingAlg: string;
  keyId: string;
  scope?: string;
}

/** Adds `stepup bundle …` and returns the `bundle` command, so other areas can add to it. */
export function registerBundleCommands(program: Command): Command {
  const bundle = program.command("bundle").description("build, sign, verify and serve bundles (OPA's format)");

  bundle
    .command("build")
    .description("compile the policy to wasm and package it with its Rego, data and code catalog")
    .option("--rego <dir>", "policy folder", `${packageRoot()}rego`)
    .option("-o, --out <file>", "bundle to write", "bundles/stepup.tar.gz")
    .option("-r, --revision <rev>", "revision (default: the git commit)")
    .addOption(
      new Option("--optimize <level>", "none: OPA's wasm as built; o2: binaryen -O2; full: the rewrites of OPA's runtime, then -O2")
        .choices(OPTIMIZE_LEVELS)
        .default("full"),
    )
    .option("--no-optimize", "the same as --optimize=none")
    .option("--allow-opa-version", "build with an OPA other than the pinned version (without the rewrites unless verified for it)")
    .option("--signing-key <pem>", "sign the bundle with this private key (PEM file)")
    .option("--signing-alg <alg>", ALGORITHMS, "RS256")
    .option("--key-id <id>", "key id written in the signature", DEFAULT_KEY_ID)
    .option("--scope <scope>", "scope written in the signature")
    .action(async (opts: { rego: string; out: string; revision?: string; optimize: OptimizeLevel | false; allowOpaVersion?: boolean } & SigningFlags) => {
      const signing = opts.signingKey ? await signOptions(opts) : undefined;
      const optimize = opts.optimize === false ? "none" : opts.optimize;
      const result = await buildBundle({ regoDir: opts.rego, out: opts.out, revision: opts.revision, optimize, allowOpaVersion: opts.allowOpaVersion, signing });
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      const signed = result.keyId ? `, signed with key ${result.keyId}` : "";
      const rewrites = result.rewrites.length > 0 ? `rewrites ${result.rewrites.join(", ")}` : "no rewrites of OPA's runtime";
      print(
        { out: result.out, revision: result.revision, codes: result.codes, key_id: result.keyId ?? null, opa_version: result.opaVersion, rewrites: result.rewrites, warnings: result.warnings },
        () => `built ${result.out} (revision ${result.revision}, ${result.codes} codes${signed})\npolicy.wasm compiled by OPA ${result.opaVersion}, ${rewrites}\n`,
      );
    });

  bundle
    .command("sign")
    .description("sign a bundle: add OPA's .signatures.json (a JWT listing every file's SHA-256)")
    .argument("<bundle>", "bundle (.tar.gz)")
    .requiredOption("--signing-key <pem>", "private key (PEM file)")
    .option("--signing-alg <alg>", ALGORITHMS, "RS256")
    .option("--key-id <id>", "key id written in the signature", DEFAULT_KEY_ID)
    .option("--scope <scope>", "scope written in the signature")
    .option("-o, --out <file>", "signed bundle to write (default: replace the input)")
    .action(async (path: string, opts: SigningFlags & { out?: string }) => {
      const signed = await signArchive(await readFile(path), path, await signOptions(opts));
      await writeFile(opts.out ?? path, signed);
      const out = opts.out ?? path;
      print({ out, key_id: opts.keyId, algorithm: opts.signingAlg }, () => `signed ${out} with key ${opts.keyId} (${opts.signingAlg})\n`);
    });

  bundle
    .command("verify")
    .description("verify a bundle's signature as OPA does (exit 1 when it does not hold)")
    .argument("<bundle>", "bundle (.tar.gz or folder)")
    .requiredOption("--verification-key <pem>", "public key or certificate (PEM file)")
    .option("--signing-alg <alg>", ALGORITHMS, "RS256")
    .option("--verification-key-id <id>", "the key's id; overrides the JWT's kid, as OPA's flag does", DEFAULT_KEY_ID)
    .option("--scope <scope>", "scope the signature must carry")
    .option("--exclude-files-verify <pattern...>", "files left out of verification")
    .action(async (path: string, opts: { verificationKey: string; signingAlg: string; verificationKeyId: string; scope?: string; excludeFilesVerify?: string[] }) => {
      const verifier = new BundleVerifier({
        keys: { [opts.verificationKeyId]: { key: await readFile(opts.verificationKey, "utf8"), algorithm: opts.signingAlg as SigningAlgorithm } },
        keyId: opts.verificationKeyId,
        scope: opts.scope,
        exclude: opts.excludeFilesVerify ?? [],
      });
      const { revision, signature } = await loadBundle(path, { verifier });
      const excluded = signature?.excluded.length ? `, ${signature.excluded.length} excluded` : "";
      const scope = signature?.scope ? `, scope ${signature.scope}` : "";
      print(
        { path, verified: true, revision, files: signature?.verified ?? 0, key_id: signature?.keyId ?? null, scope: signature?.scope ?? null, excluded: signature?.excluded ?? [] },
        () => `verified ${path}: revision ${revision}, ${signature?.verified} files, key ${signature?.keyId}${scope}${excluded}\n`,
      );
    });

  bundle
    .command("serve")
    .description("serve bundles for development: ETag, 304 and long polling in OPA's bundle protocol")
    .argument("[dir]", "folder whose *.tar.gz files are served", `${packageRoot()}bundles`)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("-p, --port <port>", "port (0 picks a free one)", "8282")
    .option("--token-file <file>", "require this bearer token (read from a file; or set STEPUP_BUNDLE_TOKEN)")
    .option("--max-wait <seconds>", "longest a long-polling request is held", "60")
    .action(async (dir: string, opts: { host: string; port: string; tokenFile?: string; maxWait: string }) => {
      const token = opts.tokenFile ? (await readFile(opts.tokenFile, "utf8")).trim() : process.env.STEPUP_BUNDLE_TOKEN;
      const server = await serveBundles({ dir, host: opts.host, port: integer(opts.port, "--port", 65_535), token, maxWaitSeconds: integer(opts.maxWait, "--max-wait") });
      const auth = token ? ", bearer token required" : "";
      print({ serving: dir, url: `${server.url}/`, max_wait_seconds: Number(opts.maxWait), token: Boolean(token) }, () => `serving ${dir} at ${server.url}/ (long polling up to ${opts.maxWait} s${auth})\n`);
      await new Promise<void>((stop) => {
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
    });
  return bundle;
}

async function signOptions(opts: SigningFlags): Promise<SignOptions> {
  return {
    key: await readFile(opts.signingKey as string, "utf8"),
    algorithm: opts.signingAlg as SigningAlgorithm,
    keyId: opts.keyId,
    scope: opts.scope,
  };
}

function integer(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a whole number from 0 to ${max}, not ${value}`);
  return n;
}
