/**
 * Publishing bundle revisions into a served folder the way a release pipeline should: write a
 * temporary file beside the target, then rename it into place, so a server never serves half a
 * file. Each publication gets a later mtime, because nginx's ETag is built from mtime and size.
 */
import { readFile, rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeArchive, type BundleFiles } from "../../src/bundle/archive.js";
import { stepupSign, withRevision, type KeyPair } from "./bundles.js";

let clock = Math.floor(Date.now() / 1000);

export async function publishBytes(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const target = join(dir, name);
  const temporary = `${target}.publishing`;
  await writeFile(temporary, bytes, { mode: 0o644 });
  clock += 10;
  await utimes(temporary, clock, clock);
  await rename(temporary, target);
}

/**
 * Publishes the base bundle as `revision`, signed with `key` (or unsigned without one), and
 * altered after signing by `tamper` when given.
 */
export async function publishRevision(
  dir: string,
  name: string,
  base: BundleFiles,
  revision: string,
  key?: KeyPair,
  tamper: (files: BundleFiles) => BundleFiles = (files) => files,
): Promise<Uint8Array> {
  const files = withRevision(base, revision);
  const bytes = writeArchive(tamper(key ? await stepupSign(files, key) : files));
  await publishBytes(dir, name, bytes);
  return bytes;
}

export async function readPublished(dir: string, name: string): Promise<Buffer> {
  return readFile(join(dir, name));
}

/** Waits until `check` holds, polling every 20 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
