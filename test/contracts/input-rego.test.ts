/**
 * The generator of the input contract's Rego package (src/contracts/input-rego.ts): patterns carry
 * JavaScript's meaning into RE2, and a contract the generator cannot carry fails the generation
 * instead of being left partly unchecked. That the generated package judges documents as the SDK
 * does is the parity suite's part (test/parity/contract.test.ts).
 */
import { describe, expect, it } from "vitest";
import { inputContractRego, re2 } from "../../src/contracts/input-rego.js";

const strict = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});

describe("patterns", () => {
  it("stop JavaScript's dot at every line terminator, in RE2", () => {
    expect(re2("^a.b$")).toBe("^a[^\\n\\r\\x{2028}\\x{2029}]b$");
    expect(re2("^spiffe:\\/\\/[^/]+(\\/.*)?$")).toBe("^spiffe:\\/\\/[^/]+(\\/[^\\n\\r\\x{2028}\\x{2029}]*)?$");
  });

  it("keep a dot that is escaped or inside a class", () => {
    expect(re2("^a\\.b[.x]$")).toBe("^a\\.b[.x]$");
    expect(re2("^[]a.]$")).toBe("^[]a.]$");
  });

  it("refuse what RE2 reads otherwise or lacks", () => {
    expect(() => re2("^\\s+$")).toThrow(/\\s/);
    expect(() => re2("^\\u2028$")).toThrow(/\\u/);
    expect(() => re2("^(?=a)a$")).toThrow(/group/);
    expect(() => re2("^(a)\\1$")).toThrow(/\\1/);
  });
});

describe("the generator", () => {
  it("checks every field and fills every default of a small contract", () => {
    const rego = inputContractRego(
      strict({ n: { type: "integer", minimum: 0, maximum: 9 }, s: { default: null, anyOf: [{ type: "string", maxLength: 3 }, { type: "null" }] } }, ["n"]),
    );
    expect(rego).toContain('problems contains "n" if {\n\tis_object(input)\n\tnot _integer(object.get(input, "n", null), 0, 9)\n}');
    expect(rego).toContain('problems contains "s" if {\n\tvalue := input.s\n\tnot is_null(value)\n\tnot _string(value, 0, 3)\n}');
    expect(rego).toContain('document := object.union_n([\n\t_document_defaults,\n\tinput,\n])');
    expect(rego).toContain('_document_defaults := {"s": null}');
  });

  it("refuses a keyword, a loose object or an unbounded value it cannot check", () => {
    expect(() => inputContractRego(strict({ n: { type: "number", minimum: 0, maximum: 1, multipleOf: 2 } }))).toThrow(/multipleOf/);
    expect(() => inputContractRego({ type: "object", properties: {} })).toThrow(/strict/);
    expect(() => inputContractRego(strict({ s: { type: "string" } }, ["s"]))).toThrow(/without bounds/);
    expect(() => inputContractRego(strict({ s: { type: "string", format: "email", maxLength: 9 } }, ["s"]))).toThrow(/format without a pattern/);
    expect(() => inputContractRego(strict({ l: { type: "array", items: { type: "string", maxLength: 1 } } }, ["l"]))).toThrow(/maxItems/);
    expect(() => inputContractRego(strict({ o: { type: "number", minimum: 0, maximum: 1 } }))).toThrow(/optional without a default/);
  });
});
