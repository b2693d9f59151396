/**
 * Hostile bundle archives, written byte by byte with tar's own header encoder so that nothing
 * sanitises them on the way: path traversal (plain and hidden in a PAX record), absolute and
 * drive paths, symbolic and hard links, devices, duplicates, and a decompression bomb.
 */
import { createGzip, gzipSync } from "node:zlib";
import { Header, Pax } from "tar";

export interface RawEntry {
  readonly path: string;
  readonly type?: "File" | "SymbolicLink" | "Link" | "CharacterDevice" | "FIFO" | "Directory";
  readonly body?: string;
  readonly linkpath?: string;
  /** A PAX record that overrides the header's path (the header keeps `path`). */
  readonly paxPath?: string;
}

/** A tar.gz holding exactly these entries. */
export function rawArchive(entries: readonly RawEntry[]): Uint8Array {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? "");
    const data = {
      path: entry.path,
      type: entry.type ?? "File",
      size: entry.type === undefined || entry.type === "File" ? body.byteLength : 0,
      mode: 0o644,
      mtime: new Date(0),
      linkpath: entry.linkpath,
    };
    if (entry.paxPath) blocks.push(new Pax({ path: entry.paxPath }).encode());
    const header = new Header(data);
    header.encode();
    blocks.push(header.block as Buffer);
    if (data.size > 0) blocks.push(body, Buffer.alloc((512 - (body.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The hostile archives every reader must refuse, by what makes each hostile. */
export const HOSTILE: readonly { name: string; code: string; entries: RawEntry[] }[] = [
  { name: "a path that climbs out with ..", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "../escaped.rego", body: "package x" }] },
  { name: "a path that climbs out midway", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "/stepup/../../escaped.rego", body: "x" }] },
  { name: "a traversal hidden in a PAX record", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "innocent.rego", paxPath: "../../escaped.rego", body: "x" }] },
  { name: "an absolute path beyond OPA's leading slash", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "//tmp/escaped.rego", body: "x" }] },
  { name: "a drive path", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "C:/escaped.rego", body: "x" }] },
  { name: "a backslash path", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "stepup\\..\\..\\escaped.rego", body: "x" }] },
  { name: "a symbolic link", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "data.json", type: "SymbolicLink", linkpath: "/etc/passwd" }] },
  { name: "a hard link", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "data.json", type: "Link", linkpath: "../escaped.rego" }] },
  { name: "a character device", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "dev", type: "CharacterDevice" }] },
  { name: "a FIFO", code: "ERR_BUNDLE_UNSAFE", entries: [{ path: "fifo", type: "FIFO" }] },
  {
    name: "two entries for one path",
    code: "ERR_BUNDLE_INVALID",
    entries: [
      { path: "/data.json", body: "{}" },
      { path: "./data.json", body: '{"a":1}' },
    ],
  },
];

/**
 * A decompression bomb: a small gzip that expands to `expandedBytes` of zeros inside one tar
 * entry. Written through a streaming gzip so that building it never holds the expanded bytes.
 */
export async function decompressionBomb(expandedBytes: number): Promise<Uint8Array> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.on("end", resolve));
  const header = new Header({ path: "data.json", type: "File", size: expandedBytes, mode: 0o644, mtime: new Date(0) });
  header.encode();
  gzip.write(header.block);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < expandedBytes; written += chunk.byteLength) {
    const piece = chunk.subarray(0, Math.min(chunk.byteLength, expandedBytes - written));
    if (!gzip.write(piece)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end(Buffer.alloc(1024));
  await done;
  return Buffer.concat(out);
}
