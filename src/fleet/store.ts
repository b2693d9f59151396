/**
 * A bundle store keyed by revision: a folder holding one archive per revision
 * (`<revision>.tar.gz`, the revision URI-encoded), so that the bundle any logged decision names can
 * be loaded again months later. A revision is immutable: storing different content under a
 * revision already held is refused.
 */
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BundleInvalidError, BundleNotFoundError, RevisionNotFoundError } from "../errors.js";
import { writeArchive } from "../bundle/archive.js";
import { loadBundle, type Bundle } from "../bundle/load.js";

const SUFFIX = ".tar.gz";

export class BundleStore {
  readonly dir: string;
  private readonly cache = new Map<string, Promise<Bundle>>();

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Where the archive of a revision is (or would be). */
  pathOf(revision: string): string {
    return join(this.dir, encodeURIComponent(revision) + SUFFIX);
  }

  /**
   * Stores a bundle (a loaded one, or a .tar.gz or folder path) under its revision and returns
   * the revision. Storing the same content again is a no-op.
   */
  async put(source: Bundle | string): Promise<string> {
    const bundle = typeof source === "string" ? await loadBundle(source) : source;
    if (!bundle.revision) throw new BundleInvalidError(bundle.source, "the bundle has no revision; it cannot be stored");
    const target = this.pathOf(bundle.revision);
    if (await this.has(bundle.revision)) {
      const stored = await loadBundle(target);
      if (!sameFiles(stored, bundle)) {
        throw new BundleInvalidError(bundle.source, `revision ${bundle.revision} is already stored with different content`);
      }
      return bundle.revision;
    }
    await mkdir(this.dir, { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    try {
      if (typeof source === "string" && (await stat(source)).isFile()) await copyFile(source, partial);
      else await pack(bundle, partial);
      await rename(partial, target);
    } finally {
      await rm(partial, { force: true });
    }
    return bundle.revision;
  }

  /** The bundle of a revision; throws `RevisionNotFoundError` when the store has none. */
  get(revision: string): Promise<Bundle> {
    let bundle = this.cache.get(revision);
    if (!bundle) {
      bundle = loadBundle(this.pathOf(revision)).catch((err: unknown) => {
        this.cache.delete(revision);
        throw err instanceof BundleNotFoundError ? new RevisionNotFoundError(revision, this.dir) : err;
      });
      this.cache.set(revision, bundle);
    }
    return bundle;
  }

  async has(revision: string): Promise<boolean> {
    return stat(this.pathOf(revision)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /** The revisions held, sorted. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => decodeURIComponent(n.slice(0, -SUFFIX.length)))
      .sort();
  }
}

function sameFiles(a: Bundle, b: Bundle): boolean {
  if (a.files.size !== b.files.size) return false;
  for (const [path, bytes] of a.files) {
    const other = b.files.get(path);
    if (!other || Buffer.compare(Buffer.from(bytes), Buffer.from(other)) !== 0) return false;
  }
  return true;
}

/** Writes a loaded bundle's files as a tar.gz (what OPA and `loadBundle` both read). */
async function pack(bundle: Bundle, out: string): Promise<void> {
  await writeFile(out, writeArchive(bundle.files));
}
