/**
 * Hostile archives: every reader (the SDK, the CLI) refuses them with a typed error, and nothing
 * is ever written outside the bundle's folder — the SDK extracts nothing to disk at all.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { DEFAULT_LIMITS, readArchive, writeArchive } from "../../src/bundle/archive.js";
import { loadBundle, readBundle } from "../../src/bundle/load.js";
import { BundleTooLargeError, BundleUnsafeError, isStepupError } from "../../src/errors.js";
import { runCli } from "../helpers.js";
import { keyPair } from "../support/bundles.js";
import { HOSTILE, decompressionBomb, rawArchive } from "../support/hostile.js";

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-archive-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Every file and folder under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => (isStepupError(err) ? err.code : `untyped: ${String(err)}`),
  );
}

describe("hostile archives", () => {
  for (const hostile of HOSTILE) {
    it(`are refused by the SDK: ${hostile.name}`, async () => {
      expect(await codeOf(readArchive(rawArchive(hostile.entries), "hostile"))).toBe(hostile.code);
    });
  }

  it("are refused by the CLI, which writes nothing in the bundle's folder or above it", async () => {
    const root = join(scratch, "cli");
    const work = join(root, "a", "b");
    await mkdir(work, { recursive: true });
    const key = await keyPair(root, "ES256", "k");
    for (const [i, hostile] of HOSTILE.entries()) await writeFile(join(work, `${i}.tar.gz`), rawArchive(hostile.entries));
    const before = await tree(root);
    // The SDK cases above cover every archive; the CLI gets a few of each kind, side by side.
    const picked = [...HOSTILE.entries()].filter(([, h]) => /climbs out with|PAX|symbolic|hard|device/.test(h.name));
    await Promise.all(
      picked.map(async ([i, hostile]) => {
        const args = ["bundle", "verify", join(work, `${i}.tar.gz`), "--verification-key", key.publicPath, "--signing-alg", "ES256"];
        const result = await runCli(args);
        expect(result.code, hostile.name).toBe(1);
        expect(result.stderr, hostile.name).toContain(hostile.code);
      }),
    );
    expect(await tree(root)).toEqual(before);
  });
});

describe("size limits", () => {
  it("stop a decompression bomb at the expanded-size limit, with the default limits", async () => {
    const bomb = await decompressionBomb(DEFAULT_LIMITS.maxUncompressedBytes + 1024 * 1024);
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const err = await readArchive(bomb, "bomb").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleTooLargeError);
    expect((err as Error).message).toMatch(/expands beyond 134217728 bytes/);
  });

  it("refuse an oversized archive before reading it", async () => {
    const bytes = await readFile(inject("bundlePath"));
    const limits = { ...DEFAULT_LIMITS, maxCompressedBytes: bytes.byteLength - 1 };
    await expect(readBundle(bytes, "big", { limits })).rejects.toThrow(BundleTooLargeError);
    await expect(loadBundle(inject("bundlePath"), { limits })).rejects.toThrow(/larger than/);
    await expect(readBundle(bytes, "fits", { limits: { ...limits, maxCompressedBytes: bytes.byteLength } })).resolves.toMatchObject({
      revision: "test-revision",
    });
  });

  it("refuse more files than allowed", async () => {
    const archive = rawArchive([1, 2, 3, 4].map((n) => ({ path: `f${n}.rego`, body: "x" })));
    await expect(readArchive(archive, "many", { ...DEFAULT_LIMITS, maxFiles: 3 })).rejects.toThrow(BundleTooLargeError);
    await expect(readArchive(archive, "ok", { ...DEFAULT_LIMITS, maxFiles: 4 })).resolves.toHaveProperty("size", 4);
  });

  it("refuse a directory bundle holding a symbolic link", async () => {
    const dir = join(scratch, "linked");
    await mkdir(dir);
    const { symlink } = await import("node:fs/promises");
    await symlink("/etc/hostname", join(dir, "data.json"));
    await expect(loadBundle(dir)).rejects.toThrow(BundleUnsafeError);
  });
});

describe("writing archives", () => {
  it("round-trips files, long paths included, and gives the same bytes for the same files", async () => {
    const long = `stepup/${"deep/".repeat(30)}policy.rego`;
    const files = new Map([
      ["data.json", Buffer.from("{}")],
      [long, Buffer.from("package stepup.deep")],
    ]);
    const bytes = writeArchive(files);
    expect(await readArchive(bytes, "round-trip")).toEqual(files);
    expect(Buffer.from(writeArchive(files)).equals(Buffer.from(bytes))).toBe(true);
  });
});
