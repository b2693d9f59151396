/**
 * A schema built on first use (src/contracts/lazy-schema.ts) stands for the schema in everything
 * a caller or zod itself does with it: parsing, composing, `instanceof`, JSON Schema, keys and
 * descriptors; and it is not built until then.
 */
import * as z from "zod";
import { describe, expect, it } from "vitest";
import { lazySchema } from "../../src/contracts/lazy-schema.js";
import { Feature, InputSchema } from "../../src/contracts/input.js";

describe("a lazily built schema", () => {
  const eager = () => z.strictObject({ name: z.string().max(3), kind: z.enum(["a", "b"]).default("a") });

  it("is built on first use, once", () => {
    let built = 0;
    const schema = lazySchema(() => {
      built++;
      return eager();
    });
    expect(built).toBe(0);
    expect(schema.parse({ name: "x" })).toEqual({ name: "x", kind: "a" });
    expect(schema.safeParse({ name: "x", kind: "c" }).success).toBe(false);
    expect(built).toBe(1);
  });

  it("answers the properties it is given without being built, as the schema would", () => {
    let built = 0;
    const options = ["a", "b"];
    const schema = lazySchema(
      () => {
        built++;
        return z.enum(options);
      },
      { options },
    );
    expect(schema.options).toEqual(["a", "b"]);
    expect(built).toBe(0);
    expect(schema.parse("b")).toBe("b");
    expect(built).toBe(1);
    expect(schema.options).toEqual(z.enum(options).options);
    // The input contract's features, read by the behaviour profile on every import of the SDK:
    // those of the schema once built.
    expect(Feature.options).toEqual(Object.values(Feature.enum));
  });

  it("parses, fails, composes and converts as the schema it stands for", () => {
    const lazy = lazySchema(eager);
    const real = eager();
    for (const doc of [{ name: "x" }, { name: "long" }, { name: "x", extra: 1 }, null, { name: 1, kind: "b" }]) {
      const [a, b] = [lazy.safeParse(doc), real.safeParse(doc)];
      expect(a.success).toBe(b.success);
      expect(a.error?.issues).toEqual(b.error?.issues);
    }
    expect(lazy).toBeInstanceOf(z.ZodObject);
    expect(lazy instanceof z.ZodString).toBe(false);
    expect(Object.keys(lazy)).toEqual(Object.keys(real));
    expect(Object.getOwnPropertyDescriptor(lazy, "_zod")?.value).toBeDefined();
    expect("shape" in lazy).toBe(true);
    expect(z.toJSONSchema(lazy)).toEqual(z.toJSONSchema(real));
    const outer = z.object({ inner: lazy, list: z.array(lazy).max(2) });
    expect(outer.safeParse({ inner: { name: "x" }, list: [{ name: "y", kind: "b" }] }).data).toEqual({
      inner: { name: "x", kind: "a" },
      list: [{ name: "y", kind: "b" }],
    });
    expect(outer.safeParse({ inner: { name: "long" }, list: [] }).error?.issues[0]?.path).toEqual(["inner", "name"]);
    expect(lazy.extend({ more: z.boolean() }).safeParse({ name: "x", more: true }).success).toBe(true);
    expect(z.toJSONSchema(outer)).toEqual(z.toJSONSchema(z.object({ inner: real, list: z.array(real).max(2) })));
  });

  it("holds for the SDK's contracts, whose JSON Schemas are those zod generates from them", () => {
    expect(InputSchema).toBeInstanceOf(z.ZodObject);
    expect(Object.keys(InputSchema.shape)).toContain("subject");
  });
});
