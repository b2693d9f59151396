/**
 * src/wasm/layout.ts against the pinned OPA's own source: the module `go mod download` gives for
 * the version the bundle build pins. Struct sizes and field offsets are computed from value.h as a
 * wasm32 C compiler lays them out (pointers and size_t 4 bytes, long long 8, each field at its
 * alignment); the type tags and number forms from its #defines; the JSON token and the string hash
 * from json.h and value.c; the interned constants from what OPA's compiler writes
 * (internal/compiler/wasm/wasm.go); the signatures of the runtime functions the rewrites replace or
 * front from their C prototypes. A new OPA whose runtime moved any of it fails here, before a
 * bundle is built with rewrites for it (docs/architecture/opa-wasm.md, "Upgrading OPA").
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PINNED_OPA_VERSION } from "../../src/bundle/opa-cli.js";
import { FNV32, INTERNED, JSON_TOKEN_STRING, LAYOUT_OPA_VERSIONS, NUMBER_REPR, POINTER_BYTES, RUNTIME_FUNCTIONS, STRUCTS, TYPE } from "../../src/wasm/layout.js";

/** The pinned OPA module's folder, downloaded into Go's module cache if it is not there yet. */
function opaModule(version: string): string {
  const out = execFileSync("go", ["mod", "download", "-json", `github.com/open-policy-agent/opa@v${version}`], { encoding: "utf8" });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir || !existsSync(dir)) throw new Error(`go mod download gave no folder for OPA v${version}: ${out}`);
  return dir;
}

const root = opaModule(PINNED_OPA_VERSION);
const runtime = ["v1/wasm/src", "wasm/src"].map((dir) => join(root, dir)).find((dir) => existsSync(join(dir, "value.h")));
if (!runtime) throw new Error(`no wasm/src/value.h in ${root}`);
const compiler = ["v1/internal/compiler/wasm/wasm.go", "internal/compiler/wasm/wasm.go"].map((file) => join(root, file)).find(existsSync);
if (!compiler) throw new Error(`no internal/compiler/wasm/wasm.go in ${root}`);

/** A C source without its comments. */
function source(file: string): string {
  return readFileSync(join(runtime!, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\/\/[^\n]*/g, "");
}

interface CType {
  readonly size: number;
  readonly align: number;
  readonly fields?: Readonly<Record<string, number>>;
}

// wasm32: ILP32, with 8-byte long long and double aligned to 8.
const PRIMITIVES: Record<string, number> = { char: 1, "unsigned char": 1, bool: 1, int: 4, "unsigned int": 4, size_t: 4, int32_t: 4, uint32_t: 4, "long long": 8, int64_t: 8, double: 8 };

/** The index just past the brace that closes the one at `open`. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i + 1;
  }
  throw new Error("unbalanced braces");
}

/** The layout of a struct or union body: each member at its alignment (all at 0 in a union). */
function layoutOf(body: string, types: ReadonlyMap<string, CType>, union: boolean): CType {
  const fields: Record<string, number> = {};
  let offset = 0;
  let size = 0;
  let align = 1;
  let rest = body.trim();
  while (rest.length > 0) {
    let member: CType;
    let name: string;
    const nested = /^(struct|union)\s*\{/.exec(rest);
    if (nested) {
      const end = closing(rest, rest.indexOf("{"));
      member = layoutOf(rest.slice(rest.indexOf("{") + 1, end - 1), types, nested[1] === "union");
      const after = /^\s*(\w+)\s*;/.exec(rest.slice(end));
      if (!after) throw new Error(`a nested ${nested[1]} without a name: ${rest.slice(0, 60)}`);
      name = after[1]!;
      rest = rest.slice(end + after[0].length).trim();
    } else {
      const semicolon = rest.indexOf(";");
      const declaration = rest.slice(0, semicolon).replace(/\bconst\b/g, " ").trim();
      rest = rest.slice(semicolon + 1).trim();
      const parts = /^(.*?)(\w+)$/s.exec(declaration.replace(/\s+/g, " "));
      if (!parts) throw new Error(`a member that is not "type name": ${declaration}`);
      name = parts[2]!;
      const type = parts[1]!.trim();
      if (type.includes("*")) member = { size: POINTER_BYTES, align: POINTER_BYTES };
      else if (PRIMITIVES[type] !== undefined) member = { size: PRIMITIVES[type]!, align: PRIMITIVES[type]! };
      else if (types.has(type.replace(/^struct /, ""))) member = types.get(type.replace(/^struct /, ""))!;
      else throw new Error(`a member of a type this test does not lay out: ${declaration}`);
    }
    const at = union ? 0 : Math.ceil(offset / member.align) * member.align;
    fields[name] = at;
    offset = at + member.size;
    size = Math.max(size, offset);
    align = Math.max(align, member.align);
  }
  return { size: Math.ceil(size / align) * align, align, fields };
}

/** Every struct value.h defines (`typedef struct {…} name;` and `struct name {…};`), laid out in order. */
function structsOf(text: string): Map<string, CType> {
  const types = new Map<string, CType>();
  const definition = /(typedef\s+)?struct\s*(\w*)\s*\{/g;
  for (let match = definition.exec(text); match; match = definition.exec(text)) {
    const open = match.index + match[0].length - 1;
    const end = closing(text, open);
    const layout = layoutOf(text.slice(open + 1, end - 1), types, false);
    const name = match[1] ? /^\s*(\w+)\s*;/.exec(text.slice(end))?.[1] : match[2];
    if (!name) throw new Error(`a struct without a name at ${text.slice(match.index, match.index + 60)}`);
    types.set(name, layout);
    definition.lastIndex = end;
  }
  return types;
}

/** The value of `#define NAME (n)` in a C source. */
function defined(text: string, name: string): number {
  const match = new RegExp(`#define\\s+${name}\\s+\\(?\\s*(?:\\(size_t\\))?\\s*(0x[0-9a-fA-F]+|\\d+)\\s*\\)?`).exec(text);
  if (!match) throw new Error(`no #define ${name}`);
  return Number(match[1]);
}

/** The wasm type of a C type on wasm32. */
function wasmType(c: string): string {
  const type = c.replace(/\bconst\b/g, "").replace(/\s+/g, " ").trim();
  if (type.includes("*")) return "i32";
  if (type === "void") return "none";
  if (["long long", "int64_t", "unsigned long long"].includes(type)) return "i64";
  if (["int", "unsigned int", "size_t", "int32_t", "uint32_t", "bool", "char", "unsigned char"].includes(type)) return "i32";
  throw new Error(`a C type this test does not map: ${c}`);
}

/** A parameter's type: without its name, when it has one (`int32_t` and `opa_value *` have none). */
function withoutName(param: string): string {
  const type = param.trim().replace(/\w+$/, "").trim();
  return type === "" || /^(unsigned|signed|long|const)$/.test(type) ? param.trim() : type;
}

/** The wasm signature of a runtime function, from its first prototype or definition in the headers, else the C files. */
function signatureOf(name: string): [string[], string] {
  const files = readdirSync(runtime!).filter((f) => f.endsWith(".h")).concat(readdirSync(runtime!).filter((f) => f.endsWith(".c")));
  for (const file of files) {
    const match = new RegExp(`(?:^|\\n)[ \\t]*((?:const\\s+)?[A-Za-z_][\\w ]*?[\\s*]+)${name}\\s*\\(([^()]*)\\)\\s*[;{]`).exec(source(file));
    if (!match) continue;
    const params = match[2]!.trim() === "void" || match[2]!.trim() === "" ? [] : match[2]!.split(",").map((param) => wasmType(withoutName(param)));
    return [params, wasmType(match[1]!.replace(/\b(static|inline|OPA_INTERNAL|OPA_BUILTIN)\b/g, ""))];
  }
  throw new Error(`no prototype of ${name} in ${runtime}`);
}

describe(`src/wasm/layout.ts against OPA v${PINNED_OPA_VERSION}'s source`, () => {
  const valueH = source("value.h");

  it("is the layout of the OPA version the bundle build pins, which scripts/install-tools.sh installs", () => {
    const installed = /^OPA_VERSION=v([\d.]+)$/m.exec(readFileSync("scripts/install-tools.sh", "utf8"))?.[1];
    expect(installed).toBe(PINNED_OPA_VERSION);
    expect(LAYOUT_OPA_VERSIONS).toContain(PINNED_OPA_VERSION);
  });

  it("has every struct's size and field offsets as value.h lays them out on wasm32", () => {
    const computed = structsOf(valueH);
    for (const [name, layout] of Object.entries(STRUCTS)) {
      const c = computed.get(name);
      expect(c, `value.h defines ${name}`).toBeDefined();
      expect(layout, name).toEqual({ size: c!.size, ...c!.fields });
    }
  });

  it("has the type tags and number forms of value.h, in the order OPA's compiler numbers them", () => {
    for (const [name, tag] of Object.entries(TYPE)) expect(tag, name).toBe(defined(valueH, `OPA_${name}`));
    for (const [name, repr] of Object.entries(NUMBER_REPR)) expect(repr, name).toBe(defined(valueH, `OPA_NUMBER_REPR_${name}`));
    const go = readFileSync(compiler!, "utf8");
    const iota = /const \(\s*opaTypeNull int32 = iota \+ 1([\s\S]*?)\)/.exec(go)?.[1];
    expect(iota, "the compiler's opaType constants").toBeDefined();
    const names = ["opaTypeNull", ...iota!.split(/\s+/).filter(Boolean)];
    const camel = (name: string) => `opaType${name.toLowerCase().replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())}`;
    for (const [name, tag] of Object.entries(TYPE)) expect(names.indexOf(camel(name)) + 1, name).toBe(tag);
  });

  it("has the JSON lexer's plain-string token and the runtime's string hash", () => {
    expect(JSON_TOKEN_STRING).toBe(defined(source("json.h"), "OPA_JSON_TOKEN_STRING"));
    const valueC = source("value.c");
    expect(FNV32.init).toBe(defined(valueC, "FNV32_INIT"));
    // fnv1a32 multiplies by shifting and adding: hash += (hash<<1) + (hash<<4) + …, then xors the byte.
    const step = /hash \+= ((?:\(hash\s*<<\s*\d+\)\s*\+?\s*)+);\s*hash \^= \*data;/.exec(valueC);
    expect(step, "fnv1a32's step").not.toBeNull();
    const shifts = [...step![1]!.matchAll(/<<\s*(\d+)/g)].map((m) => Number(m[1]));
    expect(shifts.reduce((product, shift) => product + 2 ** shift, 1)).toBe(FNV32.prime);
  });

  it("has the interned constants as OPA's compiler writes them", () => {
    const go = readFileSync(compiler!, "utf8");
    const writer = /func \(c \*Compiler\) writeInternedOPAValues[\s\S]*?\n}\n/.exec(go)?.[0];
    expect(writer, "writeInternedOPAValues").toBeDefined();
    // The booleans: true then false, each { BOOLEAN_INTERNED, v }.
    expect(writer).toMatch(/range \[\]bool\{true, false\}/);
    expect(writer).toMatch(/buf\.Write\(\[\]byte\{byte\(opaTypeBooleanInterned\), v\}\)/);
    expect(INTERNED.booleans).toEqual([TYPE.BOOLEAN_INTERNED, 1, TYPE.BOOLEAN_INTERNED, 0]);
    // Each string: an opa_string_t with the tag as 16 bits at hdr, its length at len, its bytes' address at v.
    expect(Number(/size := (\d+)\s*\n\s*b := make\(\[\]byte, size\)/.exec(writer!)?.[1])).toBe(INTERNED.string.size);
    expect(writer).toContain(`PutUint16(b[${INTERNED.string.hdr}:], uint16(opaTypeStringInterned))`);
    expect(writer).toContain(`PutUint32(b[${INTERNED.string.len}:], uint32(len(s.Value)))`);
    expect(writer).toContain(`PutUint32(b[${INTERNED.string.v}:], c.stringAddrs[i])`);
    // The strings' bytes first, NUL-terminated, then the interned values, in one segment.
    expect(go).toMatch(/c\.writeStrings\(&buf\)\s*\n\s*if err := c\.writeInternedOPAValues\(&buf\)/);
    expect(go).toMatch(/buf\.WriteString\(s\.Value\)\s*\n\s*buf\.WriteByte\(0\)/);
  });

  it("has the signatures of the runtime functions the rewrites replace or front", () => {
    for (const [name, [params, results]] of Object.entries(RUNTIME_FUNCTIONS)) {
      expect(signatureOf(name), name).toEqual([params, results]);
    }
  });
});

describe("the layout test's reading of C", () => {
  it("lays out a struct with a union as a wasm32 compiler does", () => {
    const types = structsOf("typedef struct { char c; long long l; } a_t; typedef struct { unsigned char t; union { long long i; a_t a; } u; int *p; } b_t;");
    expect(types.get("a_t")).toEqual({ size: 16, align: 8, fields: { c: 0, l: 8 } });
    expect(types.get("b_t")).toEqual({ size: 32, align: 8, fields: { t: 0, u: 8, p: 24 } });
  });
});
