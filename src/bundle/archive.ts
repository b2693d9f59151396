/**
 * Reading a bundle archive (tar.gz) into memory. Every bundle is untrusted until its signature is
 * checked, so the reader bounds what it accepts: compressed and uncompressed size (a decompression
 * bomb stops at the limit), number of files, and entry kinds (regular files and directories only;
 * links and devices are refused). Paths are normalised to the bundle root; OPA writes them with a
 * leading "/", which is kept as the root, never as the file system's.
 */
import { gunzipSync } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { BundleInvalidError } from "../errors.js";

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
    throw new BundleInvalidError(source, `archive is larger than ${limits.maxCompressedBytes} bytes`);
  }
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(bytes, { maxOutputLength: limits.maxUncompressedBytes });
  } catch (err) {
    const bomb = err instanceof RangeError || (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
    const reason = bomb
      ? `archive expands beyond ${limits.maxUncompressedBytes} bytes`
      : `not a gzip archive (${(err as Error).message})`;
    throw new BundleInvalidError(source, reason, { cause: err });
  }
  return untar(tarBytes, source, limits);
}

function untar(tarBytes: Buffer, source: string, limits: ArchiveLimits): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (reason: string) => {
      if (!failed) reject(new BundleInvalidError(source, reason));
      failed = true;
    };
    const parser = new Parser({
      strict: true,
      onwarn: (_code: string, message: string | Error) => fail(`bad archive: ${String(message)}`),
    });
    parser.on("entry", (entry: ReadEntry) => {
      const problem = checkEntry(entry, files.size, limits);
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
        if (path && files.has(path)) fail(`duplicate entry ${path}`);
        else if (path) files.set(path, Buffer.concat(chunks));
      });
    });
    parser.on("error", (err: Error) => fail(`bad archive: ${err.message}`));
    parser.on("end", () => {
      if (!failed) resolve(files);
    });
    parser.end(tarBytes);
  });
}

function checkEntry(entry: ReadEntry, count: number, limits: ArchiveLimits): string | undefined {
  if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "Directory") {
    return `entry ${entry.path} is a ${entry.type}; only files and directories are allowed`;
  }
  if (count >= limits.maxFiles) return `more than ${limits.maxFiles} files`;
  if (normalisePath(entry.path) === undefined) return `entry path ${JSON.stringify(entry.path)} is not allowed`;
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
