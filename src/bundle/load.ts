/**
 * Loading a stepup bundle from a tar.gz archive or a directory, in OPA's bundle layout: the Rego,
 * data.json files placed by their directory, a .manifest carrying the revision and stepup's
 * metadata (code catalog, wasm module), and the compiled policy.wasm. The tuning data is checked
 * against the config contract here, so that every way a bundle comes in — `Stepup.load`,
 * `stepup bundle verify`, the bundle client, the bundle store — refuses one whose data would
 * make the policy decide wrongly, whoever built and signed it (`opa build --signing-key` too).
 */
import { lstat, readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ConfigSchema, meetsConfig, type Config } from "../contracts/config.js";
import { checkTuningCodes } from "./tuning-codes.js";
import { ManifestSchema, type BundleMetadata, type Manifest } from "../contracts/metadata.js";
import { validate as meetsManifest } from "../contracts/generated/manifest-check.js";
import { toIssues } from "../contracts/issues.js";
import { BundleInvalidError, BundleNotFoundError, BundleTooLargeError, BundleUnsafeError } from "../errors.js";
import { DEFAULT_LIMITS, readArchive, type ArchiveLimits, type BundleFiles } from "./archive.js";
import type { BundleVerifier, Verification } from "./verify.js";
import { startCompiling } from "../wasm/module.js";

/**
 * zod's options for a document checked once per load: without the code zod would otherwise
 * generate and compile for each object schema on its first parse (`jitless`), which pays only over
 * many parses — at load it cost more than the check itself (docs/performance.md, cold start).
 */
const ONCE = { jitless: true } as const;

export interface Bundle {
  /** Where the bundle came from, for messages. */
  readonly source: string;
  /** The revision in the manifest; every decision names it. */
  readonly revision: string;
  readonly manifest: Manifest;
  readonly metadata: BundleMetadata;
  /** The compiled policy and the entrypoint to call in it. */
  readonly wasm: Uint8Array;
  readonly entrypoint: string;
  /** All data.json files merged at their paths. */
  readonly data: Record<string, unknown>;
  /** Every file of the bundle, by path without a leading slash. */
  readonly files: BundleFiles;
  /** What signature verification established, when the bundle was verified. */
  readonly signature?: Verification;
}

export interface LoadOptions {
  /** Size and file-count limits; `DEFAULT_LIMITS` otherwise. */
  readonly limits?: ArchiveLimits;
  /** Verify the signature before anything else reads the files; unsigned bundles are then refused. */
  readonly verifier?: BundleVerifier;
}

/**
 * Loads a bundle from a `.tar.gz` file or a directory, verifying its signature when a verifier
 * is given.
 * @example
 * const bundle = await loadBundle("bundles/stepup.tar.gz", { verifier: new BundleVerifier(config) });
 */
export async function loadBundle(path: string, options: LoadOptions = {}): Promise<Bundle> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    throw new BundleNotFoundError(path, { cause: err });
  }
  if (stat.isDirectory()) return fromFiles(await readDirectory(path, limits), path, options);
  if (!stat.isFile()) throw new BundleInvalidError(path, "not a file or directory");
  return readBundle(await readFile(path), path, options);
}

/** Reads a bundle from its archive bytes (a download, a persisted copy), verifying it when asked. */
export async function readBundle(bytes: Uint8Array, source: string, options: LoadOptions = {}): Promise<Bundle> {
  return fromFiles(await readArchive(bytes, source, options.limits ?? DEFAULT_LIMITS), source, options);
}

async function fromFiles(files: BundleFiles, source: string, options: LoadOptions): Promise<Bundle> {
  const signature = options.verifier ? await options.verifier.verify(files, source) : undefined;
  const bundle = bundleFromFiles(files, source);
  return signature ? { ...bundle, signature } : bundle;
}

/** Builds a bundle from its files; checks that everything the SDK needs is there and well-formed. */
export function bundleFromFiles(files: BundleFiles, source: string): Bundle {
  const manifestBytes = files.get(".manifest");
  if (!manifestBytes) throw new BundleInvalidError(source, "no .manifest");
  const raw = parseJson(manifestBytes, ".manifest", source);
  precompile(raw, files);
  const manifest = checkManifest(raw, source);
  const metadata = manifest.metadata?.stepup;
  if (!metadata) throw new BundleInvalidError(source, ".manifest has no metadata.stepup; was it built by stepup?");
  const modulePath = metadata.wasm.module.replace(/^\//, "");
  const wasm = files.get(modulePath);
  if (!wasm) throw new BundleInvalidError(source, `no wasm module at ${metadata.wasm.module}`);
  const data = mergeData(files, source);
  checkTuningCodes(checkTuning(data, source), metadata.codes, source);
  return {
    source,
    revision: manifest.revision,
    manifest,
    metadata,
    wasm,
    entrypoint: metadata.wasm.entrypoint,
    data,
    files,
  };
}

/**
 * The manifest as its contract takes it: code generated from the contract (scripts/check-code.ts)
 * checks it and fills in its defaults, as zod's output has them, on the freshly parsed document;
 * zod names the problems of one that fails.
 */
function checkManifest(raw: unknown, source: string): Manifest {
  if (meetsManifest(raw) === true) return raw as Manifest;
  const parsed = ManifestSchema.safeParse(raw, ONCE);
  if (parsed.success) return parsed.data;
  const issues = toIssues(parsed.error, ".manifest");
  throw new BundleInvalidError(source, issues.map((i) => `${i.path}: ${i.message}`).join("; "));
}

/**
 * Starts compiling the module the manifest names, before the manifest and the tuning data are
 * checked: V8 compiles it on other threads meanwhile (src/wasm/module.ts). A manifest that names
 * none, or a module that is not there, is refused by the checks that follow.
 */
function precompile(manifest: unknown, files: BundleFiles): void {
  const stepup = (manifest as { metadata?: { stepup?: { wasm?: { module?: unknown } } } } | null)?.metadata?.stepup;
  const path = stepup?.wasm?.module;
  const wasm = typeof path === "string" ? files.get(path.replace(/^\//, "")) : undefined;
  if (wasm) startCompiling(wasm);
}

/**
 * Refuses a bundle whose tuning data (`data.stepup.config`) breaks the config contract, naming
 * each field: thresholds or weights as strings would otherwise make every risk level low, or every
 * decision fail closed, on a bundle whose signature holds. The check generated from the contract
 * answers first (`meetsConfig`); zod's schemas are built only to name the problems of tuning data
 * that fails it.
 */
function checkTuning(data: Record<string, unknown>, source: string): Config {
  const stepup = own(data, "stepup");
  const config = isObject(stepup) ? own(stepup, "config") : undefined;
  if (meetsConfig(config)) return config;
  const result = ConfigSchema.safeParse(config, ONCE);
  if (result.success) return result.data;
  const issues = toIssues(result.error, "data.stepup.config");
  const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  throw new BundleInvalidError(source, `its tuning data breaks the config contract: ${shown.join("; ")}${more}`);
}

// Keys come from the bundle (folder names, data.json keys): only own properties are read, and
// writes define properties, so `__proto__/data.json` or a `"__proto__"` key is data like any other.
function mergeData(files: BundleFiles, source: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [path, bytes] of files) {
    if (path.endsWith("data.yaml") || path.endsWith("data.yml")) {
      throw new BundleInvalidError(source, `${path}: YAML data is not supported; use data.json`);
    }
    if (path !== "data.json" && !path.endsWith("/data.json")) continue;
    const keys = path.split("/").slice(0, -1);
    const value = parseJson(bytes, path, source);
    let node = data;
    for (const key of keys) {
      const next = own(node, key);
      if (next === undefined) define(node, key, {});
      else if (!isObject(next)) throw new BundleInvalidError(source, `${path} conflicts with data at ${key}`);
      node = own(node, key) as Record<string, unknown>;
    }
    if (keys.length === 0 && !isObject(value)) throw new BundleInvalidError(source, "data.json is not an object");
    if (isObject(value)) mergeInto(node, value, path, source);
    else throw new BundleInvalidError(source, `${path} is not an object`);
  }
  return data;
}

function mergeInto(into: Record<string, unknown>, from: Record<string, unknown>, path: string, source: string) {
  for (const [key, value] of Object.entries(from)) {
    const existing = own(into, key);
    if (existing === undefined) define(into, key, value);
    else if (isObject(existing) && isObject(value)) mergeInto(existing, value, path, source);
    else throw new BundleInvalidError(source, `${path} conflicts with other data at ${key}`);
  }
}

function own(node: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function define(node: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

function parseJson(bytes: Uint8Array, file: string, source: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new BundleInvalidError(source, `${file} is not JSON`, { cause: err });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readDirectory(root: string, limits: ArchiveLimits): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const bytes = await readFile(full);
        total += bytes.byteLength;
        if (total > limits.maxUncompressedBytes || files.size >= limits.maxFiles) {
          throw new BundleTooLargeError(root, "bundle directory is larger than the limits allow");
        }
        files.set(relative(root, full).split(sep).join("/"), bytes);
      } else {
        throw new BundleUnsafeError(root, `${relative(root, full)} is not a regular file`);
      }
    }
  };
  await walk(root);
  return files;
}
