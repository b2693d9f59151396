/**
 * The last-known-good bundle on disk: the verified archive's bytes as they were downloaded (never
 * extracted), with a small record of its ETag and revision. Writes go to a temporary file in the
 * same folder and are renamed into place, so a crash leaves the previous copy whole. Only the two
 * fixed names below (and their temporary files) are ever written, inside the configured folder.
 * The copy is verified again when it is read back, with the configuration in force then.
 */
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { BundleTooLargeError, BundleUnsafeError } from "../errors.js";
import { lazySchema } from "../contracts/lazy-schema.js";

const BUNDLE_FILE = "bundle.tar.gz";
const RECORD_FILE = "bundle.json";

const RecordSchema = lazySchema(() => z.looseObject({
  revision: z.string(),
  etag: z.string().optional(),
  sha256: z.string(),
  saved_at: z.string(),
}));

export interface SavedBundle {
  readonly bytes: Uint8Array;
  readonly path: string;
  /** The ETag it was served with, when the record matches the bytes. */
  readonly etag?: string;
}

export class LastKnownGood {
  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Where the archive is kept. */
  get path(): string {
    return join(this.dir, BUNDLE_FILE);
  }

  /** Replaces the saved bundle with these (verified) archive bytes. */
  async save(bytes: Uint8Array, revision: string, etag?: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await replace(this.path, bytes);
    const record = { revision, etag, sha256: sha256(bytes), saved_at: new Date().toISOString() };
    await replace(join(this.dir, RECORD_FILE), Buffer.from(`${JSON.stringify(record)}\n`));
  }

  /** The saved bundle, or undefined when there is none. Refuses a link or an oversized file. */
  async load(): Promise<SavedBundle | undefined> {
    let stat;
    try {
      stat = await lstat(this.path);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) throw new BundleUnsafeError(this.path, "the saved bundle is not a regular file");
    if (stat.size > this.maxBytes) throw new BundleTooLargeError(this.path, `the saved bundle is larger than ${this.maxBytes} bytes`);
    const bytes = await readFile(this.path);
    return { bytes, path: this.path, etag: await this.etagFor(bytes) };
  }

  private async etagFor(bytes: Uint8Array): Promise<string | undefined> {
    try {
      const record = RecordSchema.parse(JSON.parse(await readFile(join(this.dir, RECORD_FILE), "utf8")));
      return record.sha256 === sha256(bytes) ? record.etag : undefined;
    } catch {
      return undefined;
    }
  }
}

async function replace(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    // "wx": never write through something already at the temporary name.
    await writeFile(temporary, bytes, { flag: "wx", mode: 0o600, flush: true });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
