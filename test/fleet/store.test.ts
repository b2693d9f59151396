/** The bundle store: bundles kept by revision, loaded again by revision, never overwritten. */
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { bundleFromFiles, loadBundle } from "../../src/bundle/load.js";
import { BundleStore } from "../../src/fleet/store.js";
import { WasmEngine } from "../../src/engine/inprocess/wasm.js";
import { BundleInvalidError, RevisionNotFoundError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { runCli, scenarios } from "../helpers.js";

describe("bundle store", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-store-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores an archive under its revision and loads it back by revision", async () => {
    const store = new BundleStore(join(dir, "a"));
    expect(await store.put(inject("bundlePath"))).toBe("test-revision");
    expect(await store.list()).toEqual(["test-revision"]);
    const bundle = await store.get("test-revision");
    const [scenario] = await scenarios();
    const fromStore = new Stepup(bundle, await WasmEngine.load(bundle));
    const original = await Stepup.load(inject("bundlePath"));
    expect(fromStore.evaluate(scenario!.input)).toEqual(original.evaluate(scenario!.input));
  });

  it("packs a loaded bundle (or a folder) into an archive that loads with the same files", async () => {
    const store = new BundleStore(join(dir, "b"));
    const original = await loadBundle(inject("bundlePath"));
    const files = new Map(original.files);
    files.set(".manifest", Buffer.from(JSON.stringify({ ...original.manifest, revision: "rev/with:odd chars" })));
    const renamed = bundleFromFiles(files, "memory");
    expect(await store.put(renamed)).toBe("rev/with:odd chars");
    expect(await readdir(store.dir)).toEqual(["rev%2Fwith%3Aodd%20chars.tar.gz"]);
    const back = await store.get("rev/with:odd chars");
    expect([...back.files.keys()].sort()).toEqual([...files.keys()].sort());
    expect(Buffer.from(back.wasm).equals(Buffer.from(original.wasm))).toBe(true);
  });

  it("accepts the same content again and refuses other content under a stored revision", async () => {
    const store = new BundleStore(join(dir, "c"));
    await store.put(inject("bundlePath"));
    await expect(store.put(inject("bundlePath"))).resolves.toBe("test-revision");
    const original = await loadBundle(inject("bundlePath"));
    const files = new Map(original.files);
    files.set("stepup/config/data.json", Buffer.from("{}"));
    await expect(store.put(bundleFromFiles(files, "changed"))).rejects.toThrow(BundleInvalidError);
    await expect(store.put(bundleFromFiles(files, "changed"))).rejects.toThrow(/already stored with different content/);
  });

  it("names the revision it does not hold", async () => {
    const store = new BundleStore(join(dir, "d"));
    const err = await store.get("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevisionNotFoundError);
    expect((err as RevisionNotFoundError).code).toBe("ERR_REVISION_NOT_FOUND");
    expect((err as RevisionNotFoundError).revision).toBe("nope");
  });

  it("is driven from the CLI: stepup bundle store add | list", async () => {
    const storeDir = join(dir, "cli");
    const add = await runCli(["bundle", "store", "add", inject("bundlePath"), "--store", storeDir]);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/stored revision test-revision/);
    const list = await runCli(["bundle", "store", "list", "--store", storeDir]);
    expect(list.stdout).toBe("test-revision\n");
    const folder = join(dir, "not-a-bundle");
    await cp("scenarios", folder, { recursive: true });
    await writeFile(join(folder, "x.json"), "{}");
    const bad = await runCli(["bundle", "store", "add", folder, "--store", storeDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ERR_BUNDLE_INVALID: .*no \.manifest/);
  });
});
