/**
 * Building a stepup bundle with the pinned OPA CLI:
 *   1. stage the policy (every .rego but the tests) and its data.json files;
 *   2. compile the decision entrypoints to WebAssembly (`opa build -t wasm`, with the pinned OPA:
 *      another version is refused unless allowed): the decision document, and the same decision
 *      packed into an array for the in-process engine; then rewrite OPA's runtime in it and
 *      optimize it with binaryen (src/wasm/rewrite/), as far as `optimize` says — the rewrites
 *      only for OPA versions the value layout was checked against — and record in the manifest
 *      which OPA compiled it, the optimizer and the rewrites;
 *   3. read the code catalog from the rules' METADATA annotations (`opa inspect -a`);
 *   4. write the .manifest — revision, roots, and stepup's metadata naming the wasm module — and
 *      let `opa build -b` package Rego, data, wasm and manifest into one tar.gz.
 * The wasm is listed in stepup's metadata rather than the manifest's `wasm` list, so that OPA
 * (whose static build has no wasm engine) serves the same bundle by evaluating its Rego.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import * as z from "zod";
import { ConfigSchema, type Config } from "../contracts/config.js";
import { toIssues } from "../contracts/issues.js";
import {
  BundleMetadataSchema,
  DECISION_ENTRYPOINT,
  PACKED_ENTRYPOINT,
  type BundleMetadata,
  type CodeEntry,
} from "../contracts/metadata.js";
import { BundleInvalidError } from "../errors.js";
import { readArchive } from "./archive.js";
import { checkedOpaVersion, opaBinary, runTool } from "./opa-cli.js";
import { optimize, optimizerName, REWRITE_OPA_VERSIONS, type OptimizeLevel } from "../wasm/rewrite/optimize.js";
import { checkTuningCodes } from "./tuning-codes.js";
import { DEFAULT_KEY_ID, signArchive, type SignOptions } from "./sign.js";
import { lazySchema } from "../contracts/lazy-schema.js";
import { childProcess } from "../lazy.js";

export { DECISION_ENTRYPOINT, PACKED_ENTRYPOINT };
export const BUNDLE_ROOTS = ["stepup"];

export interface BuildOptions {
  /** The folder holding the policy (rego/). */
  readonly regoDir: string;
  /** The tar.gz to write. */
  readonly out: string;
  /**
   * The revision; by default the git commit of regoDir, or, when it has uncommitted changes,
   * `<commit>-dirty-<content hash>` (`dev-<content hash>` outside git).
   */
  readonly revision?: string;
  /** The OPA binary; by default the pinned one (`opaBinary()`). */
  readonly opa?: string;
  /** Build with an OPA of another version than the pinned one instead of refusing it. */
  readonly allowOpaVersion?: boolean;
  /**
   * How far to take OPA's module (default `full`): `none` ships it as built, `o2` runs binaryen's
   * optimizer, `full` rewrites OPA's runtime first — only for OPA versions the value layout was
   * checked against; others get `o2` and a warning. `true` and `false` mean `full` and `none`.
   */
  readonly optimize?: OptimizeLevel | boolean;
  /** Sign the bundle (OPA's `.signatures.json`) with this key. */
  readonly signing?: SignOptions;
}

export interface BuildResult {
  readonly out: string;
  readonly revision: string;
  readonly codes: number;
  /** The key id the bundle was signed with, when it was. */
  readonly keyId?: string;
  /** The OPA version that compiled the module. */
  readonly opaVersion: string;
  /** The rewrites of OPA's runtime applied (none when not verified for that OPA, or not asked for). */
  readonly rewrites: readonly string[];
  /** What the caller should know: the build did less than asked (a warning each). */
  readonly warnings: readonly string[];
}

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const opa = options.opa ?? opaBinary();
  const opaVersion = await checkedOpaVersion(opa, options.allowOpaVersion);
  const committed = options.revision ?? (await gitRevision(options.regoDir));
  const warnings: string[] = [];
  let level = optimizeLevel(options.optimize);
  if (level === "full" && !REWRITE_OPA_VERSIONS.includes(opaVersion)) {
    warnings.push(
      `OPA ${opaVersion} is not a version the rewrites of OPA's runtime were checked against (${REWRITE_OPA_VERSIONS.join(", ")}): ` +
        "its module is built with binaryen -O2 and without them (docs/architecture/opa-wasm.md)",
    );
    level = "o2";
  }
  const stage = await mkdtemp(join(tmpdir(), "stepup-bundle-"));
  try {
    await stagePolicy(options.regoDir, stage);
    const config = await readConfig(opa, stage, options.regoDir);
    await stageExceptionIndex(stage, config);
    // Both entrypoints: the in-process engine evaluates the packed one; the decision document
    // stays callable in the same module for anyone using OPA's own wasm SDKs. The Envoy package is
    // for opa-envoy-plugin, which runs the Rego: its rules are annotated as entrypoints and would
    // otherwise be compiled into the module too, with JWT and x509 builtins that no wasm host
    // provides. (--ignore matches base names; no other file is named "envoy".)
    const built = await compileWasm(opa, stage, [DECISION_ENTRYPOINT, PACKED_ENTRYPOINT], ["envoy"]);
    const { wasm, rewrites } = level === "none" ? { wasm: built, rewrites: [] } : await optimize(built, options.regoDir, { rewrites: level === "full" });
    const codes = await readCodes(opa, stage, options.regoDir);
    checkTuningCodes(config, codes, options.regoDir);
    const metadata: BundleMetadata = BundleMetadataSchema.parse({
      policy_version: config.policy_version,
      wasm: {
        entrypoint: DECISION_ENTRYPOINT,
        module: "/policy.wasm",
        opa_version: opaVersion,
        ...(level === "none" ? {} : { optimizer: optimizerName() }),
        rewrites,
      },
      codes,
    });
    await writeFile(join(stage, "policy.wasm"), wasm);
    await writeFile(
      join(stage, ".manifest"),
      JSON.stringify({ roots: BUNDLE_ROOTS, metadata: { stepup: metadata } }),
    );
    // A build from uncommitted sources is named by its content too: two different uncommitted
    // builds never share a revision (the bundle store refuses a second bundle under one name).
    const revision = options.revision === undefined && UNCOMMITTED.test(committed) ? `${committed}-${await contentHash(stage)}` : committed;
    const out = resolve(options.out);
    await mkdir(dirname(out), { recursive: true });
    await runTool(opa, ["build", "--bundle", ".", "--revision", revision, "--output", out], { cwd: stage });
    const result = { out, revision, codes: Object.keys(metadata.codes).length, opaVersion, rewrites, warnings };
    if (!options.signing) return result;
    await writeFile(out, await signArchive(await readFile(out), out, options.signing));
    return { ...result, keyId: options.signing.keyId ?? DEFAULT_KEY_ID };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

function optimizeLevel(option: BuildOptions["optimize"]): OptimizeLevel {
  if (option === undefined || option === true) return "full";
  return option === false ? "none" : option;
}

/** Copies the policy and data into the stage, leaving the tests behind. */
async function stagePolicy(regoDir: string, stage: string): Promise<void> {
  await cp(regoDir, stage, {
    recursive: true,
    filter: (src) => !src.endsWith("_test.rego") && !relative(regoDir, src).startsWith("."),
  });
}

/**
 * The exceptions by subject (`data.stepup.exception_index`: subject → ids), derived from the
 * validated config, so that the policy finds a request's exceptions with one lookup instead of
 * testing every exception: decide stays flat as the exception list grows. The policy scans when
 * the index is absent; an id missing from it only leaves an exception unapplied (stricter).
 */
async function stageExceptionIndex(stage: string, config: Config): Promise<void> {
  const index: Record<string, Record<string, true>> = {};
  for (const [id, exception] of Object.entries(config.exceptions)) {
    for (const subject of Object.keys(exception.subjects)) (index[subject] ??= {})[id] = true;
  }
  await mkdir(join(stage, "stepup", "exception_index"), { recursive: true });
  await writeFile(join(stage, "stepup", "exception_index", "data.json"), JSON.stringify(index));
}

/** The policy in `dir` compiled to wasm by OPA at these entrypoints; the module's bytes. */
export async function compileWasm(opa: string, dir: string, entrypoints: readonly string[], ignore: readonly string[] = []): Promise<Uint8Array> {
  const tmp = await mkdtemp(join(tmpdir(), "stepup-wasm-"));
  try {
    const out = join(tmp, "wasm.tar.gz");
    const args = [...ignore.flatMap((name) => ["--ignore", name]), ...entrypoints.flatMap((e) => ["--entrypoint", e])];
    await runTool(opa, ["build", "--target", "wasm", ...args, "--output", out, "."], { cwd: dir });
    const wasm = (await readArchive(await readFile(out), out)).get("policy.wasm");
    if (!wasm) throw new BundleInvalidError(out, "opa build produced no policy.wasm");
    return wasm;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const Annotation = lazySchema(() => z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  custom: z.looseObject({ code: z.string().optional(), controls: z.array(z.string()).optional() }).optional(),
}));
const Inspection = lazySchema(() => z.looseObject({
  annotations: z
    .array(z.looseObject({ annotations: Annotation, location: z.looseObject({ file: z.string(), row: z.number() }) }))
    .default([]),
}));

/** The code catalog: every annotation with a `custom.code`, which must be unique and described. */
async function readCodes(opa: string, stage: string, source: string): Promise<Record<string, CodeEntry>> {
  const report = await runTool(opa, ["inspect", "--annotations", "--format", "json", "."], { cwd: stage });
  const inspection = Inspection.parse(JSON.parse(report));
  const codes: Record<string, CodeEntry> = {};
  for (const { annotations, location } of inspection.annotations) {
    const code = annotations.custom?.code;
    if (!code) continue;
    const where = `${location.file}:${location.row}`;
    if (codes[code]) throw new BundleInvalidError(source, `code ${code} is annotated twice (again at ${where})`);
    if (!annotations.title || !annotations.description) {
      throw new BundleInvalidError(source, `code ${code} at ${where} needs a title and a description`);
    }
    codes[code] = {
      title: annotations.title,
      message: annotations.description.replace(/\s+/g, " ").trim(),
      controls: annotations.custom?.controls ?? [],
    };
  }
  return Object.fromEntries(Object.entries(codes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The tuning data as OPA itself assembles it from the staged data files, validated against the
 * config contract, so a mistake in data.json fails the build naming the field.
 */
async function readConfig(opa: string, stage: string, source: string): Promise<Config> {
  const out = await runTool(opa, ["eval", "--format", "json", "--data", ".", "data.stepup.config"], { cwd: stage });
  const value = (JSON.parse(out) as { result?: { expressions: { value: unknown }[] }[] }).result?.[0]?.expressions[0]?.value;
  const result = ConfigSchema.safeParse(value);
  if (!result.success) {
    const issues = toIssues(result.error, "data.stepup.config");
    throw new BundleInvalidError(source, issues.map((i) => `${i.path}: ${i.message}`).join("; "));
  }
  return result.data;
}

/** A revision `gitRevision` gives to sources no commit names. */
const UNCOMMITTED = /(^dev|-dirty)$/;

/** The first 12 hex digits of a SHA-256 over the staged bundle's files, paths and bytes, in order. */
async function contentHash(stage: string): Promise<string> {
  const hash = createHash("sha256");
  const files = (await readdir(stage, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const paths = files.map((e) => relative(stage, join(e.parentPath, e.name))).sort();
  for (const path of paths) hash.update(`${path}\0`).update(await readFile(join(stage, path))).update("\0");
  return hash.digest("hex").slice(0, 12);
}

/** The git commit of the folder, with "-dirty" when it has uncommitted changes; "dev" outside git. */
export async function gitRevision(dir: string): Promise<string> {
  const git = promisify(childProcess().execFile);
  try {
    const { stdout: commit } = await git("git", ["rev-parse", "--short=12", "HEAD"], { cwd: dir });
    const { stdout: status } = await git("git", ["status", "--porcelain", "--", "."], { cwd: dir });
    return commit.trim() + (status.trim() ? "-dirty" : "");
  } catch {
    return "dev";
  }
}
