/**
 * Reading a bundle archive (tar.gz) into memory, and writing one. Every bundle is untrusted until
 * its signature is checked, so the reader bounds what it accepts: compressed and uncompressed size
 * (a decompression bomb stops at the limit), number of files, and entry kinds (regular files and
 * directories only; links and devices are refused). Paths are normalised to the bundle root; OPA
 * writes them with a leading "/", which is kept as the root, never as the file system's. Nothing
 * is ever extracted to disk: a bundle lives in memory, and is persisted only as its archive bytes.
 */
import { gunzipSync, gzipSync } from "node:zlib";
// tar's modules one by one rather than its index, which loads everything it does (extracting to
// disk included, with Node's assert): what is not read here stays out of the SDK's files.
import { Header } from "tar/header";
import { Parser } from "tar/parse";
import { Pax } from "tar/pax";
import type { ReadEntry } from "tar/read-entry";
import { BundleInvalidError, BundleTooLargeError, BundleUnsafeError } from "../errors.js";

export interface ArchiveLimits {
  /** Largest archive accepted, in bytes. */
  readonly maxCompressedBytes: number;
  /** Largest total of the files once decompressed, in bytes. */
  readonly maxUncompressedBytes: number;
  /** Most files accepted. */
  readonly maxFiles: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 32 * 1024 * 1024,
  maxUncompressedBytes: 128 * 1024 * 1024,
  maxFiles: 10_000,
};

/** Bundle files by their normalised path (no leading slash): `data.json`, `stepup/decision.rego`. */
export type BundleFiles = Map<string, Uint8Array>;

export async function readArchive(
  bytes: Uint8Array,
  source: string,
  limits: ArchiveLimits = DEFAULT_LIMITS,
): Promise<BundleFiles> {
  if (bytes.byteLength > limits.maxCompressedBytes) {
    throw new BundleTooLargeError(source, `archive is larger than ${limits.maxCompressedBytes} bytes`);
  }
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(bytes, { maxOutputLength: limits.maxUncompressedBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new BundleTooLargeError(source, `archive expands beyond ${limits.maxUncompressedBytes} bytes`, { cause: err });
    }
    throw new BundleInvalidError(source, `not a gzip archive (${(err as Error).message})`, { cause: err });
  }
  return untar(tarBytes, source, limits);
}

function untar(tarBytes: Buffer, source: string, limits: ArchiveLimits): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (error: Error) => {
      if (!failed) reject(error);
      failed = true;
    };
    const parser = new Parser({
      strict: true,
      onwarn: (_code: string, message: string | Error) =>
        fail(new BundleInvalidError(source, `bad archive: ${String(message)}`)),
    });
    parser.on("entry", (entry: ReadEntry) => {
      const problem = checkEntry(entry, files.size, limits, source);
      if (problem) {
        fail(problem);
        entry.resume();
        return;
      }
      if (entry.type === "Directory") {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      entry.on("end", () => {
        const path = normalisePath(entry.path);
        // Two entries for one path would let a check read one and the loader use the other.
        if (!path) fail(new BundleInvalidError(source, "a file entry has an empty path"));
        else if (files.has(path)) fail(new BundleInvalidError(source, `duplicate entry ${path}`));
        else files.set(path, Buffer.concat(chunks));
      });
    });
    parser.on("error", (err: Error) => fail(new BundleInvalidError(source, `bad archive: ${err.message}`)));
    parser.on("end", () => {
      if (!failed) resolve(files);
    });
    parser.end(tarBytes);
  });
}

function checkEntry(entry: ReadEntry, count: number, limits: ArchiveLimits, source: string): Error | undefined {
  if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "Directory") {
    return new BundleUnsafeError(source, `entry ${entry.path} is a ${entry.type}; only files and directories are allowed`);
  }
  if (normalisePath(entry.path) === undefined) {
    return new BundleUnsafeError(source, `entry path ${JSON.stringify(entry.path)} could leave the bundle`);
  }
  if (count >= limits.maxFiles) return new BundleTooLargeError(source, `more than ${limits.maxFiles} files`);
  return undefined;
}

/**
 * The path inside the bundle, or undefined when it could escape it: `..` segments, backslashes,
 * drive letters, NUL, or more than one leading slash.
 */
export function normalisePath(raw: string): string | undefined {
  if (raw.includes("\0") || raw.includes("\\") || /^[A-Za-z]:/.test(raw) || raw.startsWith("//")) {
    return undefined;
  }
  const parts = raw.replace(/^\//, "").split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return undefined;
  return parts.join("/");
}

/**
 * Writes bundle files as a tar.gz in OPA's layout (every path with a leading "/"), in the order
 * given, with fixed metadata (mode 0644, mtime 0) so that the same files give the same bytes.
 */
export function writeArchive(files: BundleFiles): Uint8Array {
  const blocks: Buffer[] = [];
  const mtime = new Date(0);
  for (const [name, bytes] of files) {
    const path = `/${name}`;
    const data = { path, mode: 0o644, uid: 0, gid: 0, size: bytes.byteLength, mtime, type: "File" as const };
    const header = new Header(data);
    // Paths over 100 bytes need a PAX record ahead of the entry, as tar itself writes.
    if (header.encode()) blocks.push(new Pax(data).encode());
    if (!header.block) throw new Error(`tar header for ${path} was not encoded`);
    blocks.push(header.block, Buffer.from(bytes), Buffer.alloc((512 - (bytes.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
