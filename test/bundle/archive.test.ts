/**
 * Hostile archives: every reader (the SDK, the CLI) refuses them with a typed error, and nothing
 * is ever written outside the bundle's folder — the SDK extracts nothing to disk at all.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { gunzipSync, gzipSync } from "node:zlib";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { DEFAULT_LIMITS, readArchive, writeArchive } from "../../src/bundle/archive.js";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { loadBundle, readBundle } from "../../src/bundle/load.js";
import { BundleInvalidError, BundleTooLargeError, BundleUnsafeError, isStepupError } from "../../src/errors.js";
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

describe("reading archives as other writers make them", () => {
  const run = promisify(execFile);
  const long = `stepup/${"nested-folder/".repeat(12)}policy.rego`;
  const files = new Map([
    ["data.json", Buffer.from('{"a":1}')],
    ["stepup/policy.rego", Buffer.from("package stepup\n\nallow := true\n")],
    [long, Buffer.from("package stepup.deep\n")],
    ["stepup/é-unicode.rego", Buffer.from("package stepup.u\n")],
  ]);
  let dir: string;
  beforeAll(async () => {
    dir = join(scratch, "writers");
    for (const [path, bytes] of files) {
      await mkdir(join(dir, "src", path, ".."), { recursive: true });
      await writeFile(join(dir, "src", path), bytes);
    }
  });

  // GNU tar writes long names as GNU long-name entries by default, as the ustar prefix field with
  // --format=ustar, and as PAX records with --format=pax: each comes out as the same files.
  for (const format of ["gnu", "ustar", "pax"]) {
    it(`reads GNU tar's ${format} format`, async () => {
      const out = join(dir, `${format}.tar.gz`);
      // ustar splits a path into prefix and name only up to 255 bytes; the long path here fits.
      await run("tar", ["-czf", out, `--format=${format}`, "-C", join(dir, "src"), "data.json", "stepup"]);
      expect(await readArchive(await readFile(out), format)).toEqual(files);
    });
  }

  it("reads the bundle `opa build` writes", async () => {
    const out = join(dir, "opa.tar.gz");
    await run(opaBinary(), ["build", "-o", out, "src"], { cwd: dir });
    const read = await readArchive(await readFile(out), "opa build");
    // OPA names each module by the path it was given and merges the data into one data.json.
    const modules = [...files].filter(([path]) => path.endsWith(".rego")).map(([path, bytes]) => [`src/${path}`, bytes] as const);
    expect([...read.keys()].sort()).toEqual([".manifest", "data.json", ...modules.map(([path]) => path)].sort());
    for (const [path, bytes] of modules) expect(Buffer.from(read.get(path)!).equals(bytes), path).toBe(true);
    expect(JSON.parse(Buffer.from(read.get("data.json")!).toString("utf8"))).toEqual({ a: 1 });
  });

  it("refuses a header whose checksum does not add up, an archive cut short, and a global PAX header", async () => {
    const good = Buffer.from(gunzip(writeArchive(new Map([["data.json", Buffer.from("{}")]]))));
    const flipped = Buffer.from(good);
    flipped[10] = flipped[10]! ^ 1;
    await expect(readArchive(gzipSync(flipped), "checksum")).rejects.toThrow(/fails its checksum/);
    await expect(readArchive(gzipSync(good.subarray(0, 700)), "cut")).rejects.toThrow(BundleInvalidError);
    await expect(readArchive(gzipSync(good.subarray(0, 300)), "cut header")).rejects.toThrow(/ends inside a header/);
    const global = Buffer.from(good);
    global[156] = "g".charCodeAt(0);
    fixChecksum(global);
    expect(await codeOf(readArchive(gzipSync(global), "global"))).toBe("ERR_BUNDLE_UNSAFE");
  });
});

function gunzip(bytes: Uint8Array): Uint8Array {
  return gunzipSync(bytes);
}

/** Rewrites the header's checksum after an edit, so that only the edit is under test. */
function fixChecksum(block: Buffer): void {
  block.fill(32, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
}
