/**
 * A bundle's data is placed by folder names and data.json keys, both from the bundle: a folder or
 * a key named `__proto__` or `constructor` is data like any other, never a way to reach
 * Object.prototype of the process that loads it.
 */
import { describe, expect, it, inject } from "vitest";
import { writeArchive } from "../../src/bundle/archive.js";
import { readBundle } from "../../src/bundle/load.js";
import { Stepup } from "../../src/stepup.js";
import { readFiles } from "../support/bundles.js";

describe("bundle data keyed by names from the bundle", () => {
  it("keeps __proto__ and constructor folders and keys as plain data, and still decides", async () => {
    const files = await readFiles(inject("bundlePath"));
    const data = JSON.parse(Buffer.from(files.get("data.json")!).toString("utf8")) as Record<string, unknown>;
    const hostile = `{"__proto__": {"seen": "in data.json"}, "constructor": {"prototype": {"polluted": "by constructor"}}, ${JSON.stringify(data).slice(1)}`;
    files.set("data.json", Buffer.from(hostile));
    files.set("__proto__/data.json", Buffer.from('{"polluted": "by a folder"}'));
    files.set("stepup/__proto__/data.json", Buffer.from('{"polluted": "by a nested folder"}'));
    const bundle = await readBundle(writeArchive(files), "hostile");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(bundle.data, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(bundle.data)).toBe(Object.prototype);
    expect((bundle.data as Record<string, Record<string, unknown>>)["__proto__"]).toMatchObject({ polluted: "by a folder", seen: "in data.json" });
    const stepup = await Stepup.create(bundle, { onError: () => {} });
    const decision = stepup.decide({ now: 1_795_852_800, subject: { id: "a@example.com", kind: "human" }, target: { app: "wiki", action: "read" } });
    expect(decision.error).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
