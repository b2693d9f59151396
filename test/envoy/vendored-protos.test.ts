/**
 * protos/ holds exactly Envoy's ext_authz protos and their imports as @grpc/grpc-js-xds (a
 * development dependency) ships them: the package carries these files instead of an xDS client.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain script without declarations
import { closure } from "../../scripts/vendor-protos.mjs";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".proto")).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe("the vendored Envoy protos", () => {
  it("are the ext_authz proto and what it imports, byte for byte as Envoy's API publishes them", async () => {
    const expected = closure() as Map<string, { text: string }>;
    expect(expected.has("envoy/service/auth/v3/external_auth.proto")).toBe(true);
    expect((await filesUnder("protos")).sort()).toEqual([...expected.keys()].sort());
    for (const [path, { text }] of expected) expect(await readFile(join("protos", path), "utf8"), path).toBe(text);
  });
});
