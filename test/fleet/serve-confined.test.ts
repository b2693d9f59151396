/**
 * `stepup bundle serve` serves its folder and nothing else. It once followed a symbolic link out
 * of the folder. Here links to a file outside, to a folder outside, and a chain of links that ends
 * outside are each not found; `..`, encoded or not, never leaves the folder; a link that stays
 * inside the folder is served as the file it names.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveBundles, type BundleServer } from "../../src/fleet/serve.js";

let scratch: string;
let server: BundleServer;

/** A GET with the path exactly as written (no normalization by a client library). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, method: "GET", agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-serve-confined-"));
  const served = join(scratch, "served");
  const outside = join(scratch, "outside");
  await mkdir(join(served, "nested"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(served, "good.tar.gz"), "inside");
  await writeFile(join(served, "nested", "deep.tar.gz"), "inside, nested");
  await writeFile(join(outside, "secret.tar.gz"), "SECRET");
  await symlink(join(outside, "secret.tar.gz"), join(served, "leak.tar.gz"));
  await symlink("../outside/secret.tar.gz", join(served, "relative-leak.tar.gz"));
  await symlink(outside, join(served, "elsewhere"));
  await symlink(join(served, "leak.tar.gz"), join(served, "chain.tar.gz"));
  await symlink(join(served, "good.tar.gz"), join(served, "alias.tar.gz"));
  await symlink("nested", join(served, "inner"));
  server = await serveBundles({ dir: served });
});

afterAll(async () => {
  await server?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("stepup bundle serve stays in its folder", () => {
  it("serves the folder's files, links inside it included", async () => {
    expect(await get("/good.tar.gz")).toEqual({ status: 200, body: "inside" });
    expect(await get("/nested/deep.tar.gz")).toEqual({ status: 200, body: "inside, nested" });
    expect(await get("/alias.tar.gz")).toEqual({ status: 200, body: "inside" });
    expect(await get("/inner/deep.tar.gz")).toEqual({ status: 200, body: "inside, nested" });
  });

  it("does not follow a link out of the folder, to a file or a folder, directly or through a chain", async () => {
    for (const path of ["/leak.tar.gz", "/relative-leak.tar.gz", "/elsewhere/secret.tar.gz", "/chain.tar.gz"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain("SECRET");
    }
  });

  it("does not climb out with .., plain or encoded", async () => {
    for (const path of ["/../outside/secret.tar.gz", "/%2e%2e/outside/secret.tar.gz", "/nested/..%2f..%2foutside/secret.tar.gz", "/..%5coutside%5csecret.tar.gz"]) {
      const res = await get(path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body, path).not.toContain("SECRET");
    }
  });
});
