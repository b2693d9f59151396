/**
 * Tuning data that names a code the policy does not have — a weight for a misspelt signal, an
 * exception relaxing a reason that does not exist — is refused when the bundle is built and when
 * it is loaded, naming the code; and builds from uncommitted sources are named by their content.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DEFAULT_LIMITS, readArchive } from "../../src/bundle/archive.js";
import { buildBundle } from "../../src/bundle/build.js";
import { bundleFromFiles } from "../../src/bundle/load.js";
import { TuningCodeUnknownError } from "../../src/errors.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepup-tuning-codes-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Tuning = { weights: Record<string, number>; exceptions: Record<string, { relaxes: string[] }> };

/** The test bundle's files with its tuning data changed by `change`. */
async function changedFiles(change: (config: Tuning) => void) {
  const files = await readArchive(await readFile(inject("bundlePath")), "test", DEFAULT_LIMITS);
  const key = [...files.keys()].find((k) => k.replace(/^\//, "") === "data.json");
  if (!key) throw new Error("no data.json in the test bundle");
  const data = JSON.parse(Buffer.from(files.get(key)!).toString("utf8")) as { stepup: { config: Tuning } };
  change(data.stepup.config);
  files.set(key, Buffer.from(JSON.stringify(data)));
  return files;
}

/** A copy of rego/ with its tuning data changed by `change`. */
async function changedRego(name: string, change: (config: Tuning) => void): Promise<string> {
  const rego = join(dir, name);
  await cp("rego", rego, { recursive: true });
  const path = join(rego, "stepup", "config", "data.json");
  const data = JSON.parse(await readFile(path, "utf8")) as Tuning;
  change(data);
  await writeFile(path, JSON.stringify(data, null, 2));
  return rego;
}

describe("codes in tuning data", () => {
  it("are refused at load when a weight names no code of the policy", async () => {
    const files = await changedFiles((c) => void (c.weights["device.unencryptd"] = 5));
    const error = (() => {
      try {
        bundleFromFiles(files, "typo.tar.gz");
      } catch (err) {
        return err;
      }
    })() as TuningCodeUnknownError;
    expect(error).toBeInstanceOf(TuningCodeUnknownError);
    expect(error).toMatchObject({ code: "ERR_TUNING_CODE_UNKNOWN", field: "data.stepup.config.weights", signal: "device.unencryptd", path: "typo.tar.gz" });
  });

  it("are refused at load when an exception relaxes no code of the policy", async () => {
    let id = "";
    const files = await changedFiles((c) => {
      id = Object.keys(c.exceptions)[0]!;
      c.exceptions[id]!.relaxes.push("session.too_old_typo");
    });
    expect(() => bundleFromFiles(files, "typo.tar.gz")).toThrow(expect.objectContaining({ field: `data.stepup.config.exceptions.${id}.relaxes`, signal: "session.too_old_typo" }));
  });

  it("load as they are when every code is the policy's", async () => {
    expect(bundleFromFiles(await changedFiles(() => {}), "same.tar.gz").revision).toBe("test-revision");
  });

  it("are refused at build, naming the code", async () => {
    const rego = await changedRego("rego-typo", (c) => void (c.weights["network.tor_typo"] = 10));
    const error = await buildBundle({ regoDir: rego, out: join(dir, "typo.tar.gz"), revision: "typo", optimize: "none" }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TuningCodeUnknownError);
    expect(error).toMatchObject({ signal: "network.tor_typo", field: "data.stepup.config.weights" });
  });
});

describe("revisions of builds from uncommitted sources", () => {
  it("differ when the content differs and agree when it does not", async () => {
    // Outside any git repository the sources are uncommitted: "dev-<content hash>".
    const a = await changedRego("rego-a", () => {});
    const b = await changedRego("rego-b", (c) => {
      const [code, points] = Object.entries(c.weights)[0]!;
      c.weights[code] = points + 1;
    });
    const build = (rego: string, out: string) => buildBundle({ regoDir: rego, out: join(dir, out), optimize: "none" });
    const [first, again, changed] = [await build(a, "a1.tar.gz"), await build(a, "a2.tar.gz"), await build(b, "b.tar.gz")];
    expect(first.revision).toMatch(/^dev-[0-9a-f]{12}$/);
    expect(again.revision).toBe(first.revision);
    expect(changed.revision).toMatch(/^dev-[0-9a-f]{12}$/);
    expect(changed.revision).not.toBe(first.revision);
  }, 120_000);
});
