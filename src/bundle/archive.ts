/**
 * Reading a bundle archive (tar.gz) into memory, and writing one. Every bundle is untrusted until
 * its signature is checked, so the reader bounds what it accepts: compressed and uncompressed size
 * (a decompression bomb stops at the limit), number of files, and entry kinds (regular files and
 * directories only; links and devices are refused). Paths are normalised to the bundle root; OPA
 * writes them with a leading "/", which is kept as the root, never as the file system's. Nothing
 * is ever extracted to disk: a bundle lives in memory, and is persisted only as its archive bytes.
 */
import { gunzipSync, gzipSync } from "node:zlib";
// tar's header encoders for writing; reading is done here (untar), without tar's streams.
import { Header } from "tar/header";
import { Pax } from "tar/pax";
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

/**
 * The tar entries, read straight from the bytes: POSIX ustar headers (the name's prefix field
 * included), PAX extended headers for the next entry's path, and GNU long names, each header's
 * checksum checked. What OPA's, stepup's and GNU tar's writers produce for a bundle, and nothing
 * more: a global PAX header (whose path would name every later entry) and any entry kind other
 * than a regular file or a directory are refused, where a general-purpose reader would apply or
 * extract them.
 */
function untar(tar: Uint8Array, source: string, limits: ArchiveLimits): BundleFiles {
  const files: BundleFiles = new Map();
  const bad = (why: string) => new BundleInvalidError(source, `bad archive: ${why}`);
  let nextPath: string | undefined;
  for (let at = 0; ; ) {
    if (at + BLOCK > tar.byteLength) {
      // A missing end-of-archive marker is tolerated, as tar readers do; a cut header is not.
      if (at === tar.byteLength) break;
      throw bad("it ends inside a header");
    }
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (!checksumValid(header)) throw bad(`the header at byte ${at} fails its checksum`);
    const size = octal(header, 124, 12);
    if (size === undefined) throw bad(`the header at byte ${at} has no readable size`);
    const body = at + BLOCK;
    if (body + size > tar.byteLength) throw bad("it ends inside an entry");
    const data = tar.subarray(body, body + size);
    at = body + Math.ceil(size / BLOCK) * BLOCK;
    const type = String.fromCharCode(header[156]!);
    if (type === "x") {
      nextPath = paxPath(data) ?? nextPath;
      continue;
    }
    if (type === "L") {
      nextPath = text(data, 0, data.byteLength);
      continue;
    }
    const path = nextPath ?? headerPath(header);
    nextPath = undefined;
    const kind = KINDS[type];
    if (kind === undefined) throw new BundleUnsafeError(source, `entry ${path} is a ${NAMES[type] ?? `type ${JSON.stringify(type)} entry`}; only files and directories are allowed`);
    const normalised = normalisePath(path);
    if (normalised === undefined) throw new BundleUnsafeError(source, `entry path ${JSON.stringify(path)} could leave the bundle`);
    if (files.size >= limits.maxFiles) throw new BundleTooLargeError(source, `more than ${limits.maxFiles} files`);
    if (kind === "directory") continue;
    // Two entries for one path would let a check read one and the loader use the other.
    if (!normalised) throw new BundleInvalidError(source, "a file entry has an empty path");
    if (files.has(normalised)) throw new BundleInvalidError(source, `duplicate entry ${normalised}`);
    files.set(normalised, data);
  }
  return files;
}

const BLOCK = 512;
/** Entry kinds by type flag: regular files ("0", and "\0" from old writers) and directories. */
const KINDS: Readonly<Record<string, "file" | "directory">> = { "0": "file", "\0": "file", "5": "directory" };
/** The kinds refused, named for the error. */
const NAMES: Readonly<Record<string, string>> = {
  "1": "Link",
  "2": "SymbolicLink",
  "3": "CharacterDevice",
  "4": "BlockDevice",
  "6": "FIFO",
  "7": "ContiguousFile",
  g: "GlobalExtendedHeader",
  K: "NextFileHasLongLinkpath",
};

const decoder = new TextDecoder("utf-8", { fatal: false });

/** A NUL-terminated field as text. */
function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** An octal number field (digits, then spaces or NULs); undefined when it is not one. */
function octal(block: Uint8Array, offset: number, length: number): number | undefined {
  const digits = text(block, offset, length).replace(/[ ]+$/, "").replace(/^[ ]+/, "");
  return /^[0-7]{1,12}$/.test(digits) ? Number.parseInt(digits, 8) : undefined;
}

/** The sum of the header's bytes with its checksum field read as spaces, as the field says. */
function checksumValid(header: Uint8Array): boolean {
  const stored = octal(header, 148, 8);
  let sum = 8 * 32;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += header[i]!;
  return stored === sum;
}

/** The entry's path from its header: the name, after the prefix field in a POSIX ustar header. */
function headerPath(header: Uint8Array): string {
  const name = text(header, 0, 100);
  const ustar = text(header, 257, 6) === "ustar" && header[262] === 0;
  const prefix = ustar ? text(header, 345, 155) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** The `path` record of a PAX extended header: "<length> <key>=<value>\n" records, the length in bytes. */
function paxPath(data: Uint8Array): string | undefined {
  let path: string | undefined;
  for (let at = 0; at < data.byteLength; ) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? Number.NaN : Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= space - at + 1 || at + length > data.byteLength || data[at + length - 1] !== 0x0a) return undefined;
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf("=");
    if (equals > 0 && record.slice(0, equals) === "path") path = record.slice(equals + 1);
    at += length;
  }
  return path;
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
