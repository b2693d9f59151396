/**
 * The input document written as JSON straight into the policy's memory, compiled once from the
 * input contract's JSON Schema into straight-line JavaScript: keys become byte stores, in the
 * schema's order, and each value is written by the code for its type. ASCII strings — nearly
 * every string — never become intermediate text, as they would through `JSON.stringify`.
 *
 * Compiled from the `io: "input"` schema with `checked`, the writer also checks every value as
 * it writes it and fills in the defaults of absent fields: one pass over the caller's document
 * instead of a validator's pass, a normalizer's and a writer's. It answers only whether the
 * document meets the contract (-2 when not); zod names the problems then. A property test holds
 * its answers to zod's (test/contracts/compiled.test.ts).
 *
 * The contract bounds every string and list, so the largest document it allows is known when the
 * writer is compiled (`maxBytes`): the engine reserves that much once instead of checking for
 * space while writing.
 *
 * Compiled with a `ValueForm`, the writer writes the document as OPA's values instead of JSON
 * text: the structs OPA's JSON parser would build (wasm/src/value.h), laid out as the parser lays
 * them out, so that the policy need not parse the input at all. Object keys, booleans, null and
 * list indices are values written once per instance (the form's constants); each object's buckets
 * are OPA's own for its keys, learnt from OPA's parser. The host proves the form on every instance
 * before using it (host.ts, `valueForm`).
 */
import { FORMATS } from "../contracts/compiled.js";

type Schema = {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
};

/**
 * Writes a document at `at` in `bytes` and returns where it ends; -1 when a value is longer than
 * the writer was compiled for (write it as text instead), -2 when a checked writer finds the
 * document breaks the contract.
 */
export type InputWriter = ((bytes: Uint8Array, at: number, value: unknown) => number) & { readonly maxBytes: number };

/**
 * What a writer of OPA values needs from the instance it writes into: where its constant values
 * lie, and how OPA's objects lay out their keys.
 */
export interface ValueForm {
  /** How OPA's parser buckets an object with these keys in this order: bucket count, and each bucket's keys (their positions) in chain order. */
  layout(keys: readonly string[]): { readonly buckets: number; readonly chains: readonly (readonly number[])[] };
  /** The address of a string value holding `name`. */
  key(name: string): number;
  readonly null: number;
  readonly true: number;
  readonly false: number;
  /** The address of the first of the list indices 0, 1, 2…, numbers `NUMBER_BYTES` apart. */
  readonly indices: number;
  /** How many list indices there are. */
  readonly indexCount: number;
}

// OPA's value structs (wasm/src/value.h, wasm32): their type tags and sizes in bytes.
const OPA_NUMBER = 3;
const OPA_STRING = 4;
const OPA_ARRAY = 5;
const OPA_OBJECT = 6;
const REPR_INT = 1;
const REPR_REF = 2;
/** opa_number_t { hdr; repr; union { long long i; { s; len; free } ref } }. */
export const NUMBER_BYTES = 24;
/** opa_string_t { hdr; free; len; v }. */
const STRING_BYTES = 12;
/** opa_array_t { hdr; elems; len; cap } and opa_object_t { hdr; buckets; n; len }. */
const COLLECTION_BYTES = 16;
/** opa_array_elem_t { i; v }. */
const ARRAY_ELEM_BYTES = 8;
/** opa_object_elem_t { k; v; next }. */
const OBJECT_ELEM_BYTES = 12;

/** The writer's answers besides an end offset. */
export const TOO_LONG = -1;
export const INVALID = -2;

const encoder = new TextEncoder();
// A character (a code point, as the contract counts them) takes at most 6 bytes in JSON text
// (\u001f, or a lone surrogate escaped); a number at most 24 (-1.7976931348623157e+308).
const MAX_BYTES_PER_CHAR = 6;
const MAX_NUMBER_BYTES = 24;
// What a string without maxLength is assumed to need (formats and patterns bound those in effect).
const UNBOUNDED_STRING = 64;


/**
 * Compiles a writer. Unchecked (the default), for documents that already meet the schema (every
 * field present); `checked`, for documents straight from a caller. With `values`, it writes OPA's
 * values for the instance the form describes (the document's root lies at `at`, 8-aligned),
 * otherwise JSON text.
 */
export function compileInputWriter(schema: Schema, options: { checked?: boolean; values?: ValueForm } = {}): InputWriter {
  const checked = options.checked ?? false;
  const form = options.values;
  let next = 0;
  const fresh = (prefix = "v") => `${prefix}${next++}`;
  const patterns: RegExp[] = [];
  const constant = (text: string): string => {
    const bytes = encoder.encode(text);
    return `${[...bytes].map((byte, i) => `b[p${i ? ` + ${i}` : ""}] = ${byte};`).join(" ")} p += ${bytes.length};`;
  };
  const fail = `return ${INVALID};`;
  // A 32-bit store at a byte address (every struct field the writer sets is 4-aligned).
  const store = (addr: string, value: string | number) => `I[(${addr}) >> 2] = ${value};`;

  /** A boolean expression: does `v` (a local) meet this node? Only for scalars and their unions. */
  const test = (node: Schema, v: string): string => {
    if (Array.isArray(node.type)) return `(${node.type.map((type) => test({ ...node, type }, v)).join(" || ")})`;
    if (node.anyOf) return `(${node.anyOf.map((branch) => test(branch, v)).join(" || ")})`;
    const parts: string[] = [];
    switch (node.type) {
      case "null":
        return `${v} === null`;
      case "boolean":
        parts.push(`typeof ${v} === "boolean"`);
        break;
      case "number":
      case "integer":
        parts.push(`typeof ${v} === "number"`, node.type === "integer" ? `Number.isInteger(${v})` : `Number.isFinite(${v})`);
        if (node.minimum !== undefined) parts.push(`${v} >= ${node.minimum}`);
        if (node.maximum !== undefined) parts.push(`${v} <= ${node.maximum}`);
        if (node.exclusiveMinimum !== undefined) parts.push(`${v} > ${node.exclusiveMinimum}`);
        if (node.exclusiveMaximum !== undefined) parts.push(`${v} < ${node.exclusiveMaximum}`);
        break;
      case "string":
        parts.push(`typeof ${v} === "string"`);
        // Lengths in code points, as zod and ajv count them; counted only when UTF-16 units
        // leave the answer open (a code point is one or two units).
        if (node.maxLength !== undefined) parts.push(`(${v}.length <= ${node.maxLength} || L(${v}) <= ${node.maxLength})`);
        if (node.minLength !== undefined) {
          parts.push(`${v}.length >= ${node.minLength}`, `(${v}.length >= ${2 * node.minLength} || L(${v}) >= ${node.minLength})`);
        }
        if (node.pattern !== undefined) parts.push(`R[${patterns.push(new RegExp(node.pattern)) - 1}].test(${v})`);
        if (node.format !== undefined) {
          if (!FORMATS[node.format]) throw new Error(`input contract: no check for format ${node.format}`);
          parts.push(`F[${JSON.stringify(node.format)}](${v})`);
        }
        break;
      default:
        throw new Error(`input contract: no check for ${JSON.stringify(node).slice(0, 80)}`);
    }
    if (node.enum) parts.push(`(${node.enum.map((value) => `${v} === ${JSON.stringify(value)}`).join(" || ")})`);
    if ("const" in node) parts.push(`${v} === ${JSON.stringify(node.const)}`);
    return `(${parts.join(" && ")})`;
  };

  /**
   * Statements writing `v` (a local) at p, checking it first when checked; the most bytes they
   * write; and, for OPA's values, an expression for the address of the value written.
   */
  const write = (node: Schema, v: string): [string, number, string] => {
    if (Array.isArray(node.type)) {
      // ["boolean", "null"] and the like: a nullable value of one type.
      const types = node.type.filter((type) => type !== "null");
      if (types.length !== 1 || types.length === node.type.length) throw new Error(`input contract: type ${node.type.join(", ")}`);
      return write({ anyOf: [{ ...node, type: types[0] }, { type: "null" }] }, v);
    }
    if (node.anyOf) {
      const nonNull = node.anyOf.filter((branch) => branch.type !== "null");
      const nullable = nonNull.length < node.anyOf.length;
      let inner: string;
      let size: number;
      let at: string;
      if (nonNull.length === 1) [inner, size, at] = write(nonNull[0]!, v);
      else if (nonNull.every((branch) => branch.type === "string")) {
        // A union of string formats: check against each, write as a string.
        [inner, size, at] = write({ type: "string", maxLength: Math.max(...nonNull.map(stringBound)) }, v);
        if (checked) inner = `if (!${test({ anyOf: nonNull }, v)}) ${fail} ${inner}`;
      } else throw new Error(`input contract: a union of ${nonNull.map((branch) => branch.type).join(", ")}`);
      if (!nullable) return [inner, size, at];
      if (!form) return [`if (${v} === null) { ${constant("null")} } else { ${inner} }`, Math.max(4, size), ""];
      const a = fresh("a");
      return [`let ${a} = ${form.null}; if (${v} !== null) { ${inner} ${a} = ${at}; }`, size, a];
    }
    switch (node.type) {
      case "string": {
        const bound = stringBound(node);
        const check = checked ? `if (!${test(node, v)}) ${fail} ` : "";
        // A string the schema does not bound (a pattern such as ^[A-Z]{2}$ bounds it only in
        // effect) is written only up to an assumed length; a longer one abandons the write.
        const guard = node.maxLength === undefined && !node.enum ? `if (${v}.length > ${bound}) return ${TOO_LONG}; ` : "";
        if (!form) return [`${check}${guard}p = S(b, p, ${v});`, 2 + MAX_BYTES_PER_CHAR * bound, ""];
        const a = fresh("a");
        // UTF-8 takes at most 4 bytes per code point; the struct, then the text, 4-aligned.
        return [`${check}${guard}const ${a} = p; p = S(b, I, p, ${v}); if (p < 0) return p;`, STRING_BYTES + 4 * bound + 3, a];
      }
      case "number":
      case "integer":
      case "boolean": {
        const check = checked ? `if (!${test(node, v)}) ${fail} ` : "";
        if (node.type === "boolean") {
          if (!form) return [`${check}if (${v}) { ${constant("true")} } else { ${constant("false")} }`, 5, ""];
          return [check, 0, `(${v} ? ${form.true} : ${form.false})`];
        }
        if (!form) return [`${check}p = N(b, p, ${v});`, MAX_NUMBER_BYTES, ""];
        const a = fresh("a");
        return [`${check}const ${a} = p; p = N(b, I, p, ${v});`, NUMBER_BYTES + MAX_NUMBER_BYTES + 3, a];
      }
      case "array": {
        if (!node.items || node.maxItems === undefined) throw new Error("input contract: a list without a bound");
        const i = fresh("i");
        const item = fresh();
        const [inner, size, at] = write(node.items, item);
        const check = checked
          ? `if (!Array.isArray(${v}) || ${v}.length > ${node.maxItems}${node.minItems ? ` || ${v}.length < ${node.minItems}` : ""}) ${fail} `
          : "";
        if (!form) {
          const loop = `for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { if (${i} > 0) { ${constant(",")} } const ${item} = ${v}[${i}]; ${inner} }`;
          return [`${check}${constant("[")} ${loop} ${constant("]")}`, 2 + node.maxItems * (size + 1), ""];
        }
        if (node.maxItems > form.indexCount) throw new Error(`input contract: a list of up to ${node.maxItems} items, past the form's indices`);
        // opa_array_t, then its elements { i; v } (each index a constant number), then the items.
        const a = fresh("a");
        const header = [
          `const ${a} = p; p += ${COLLECTION_BYTES} + ${ARRAY_ELEM_BYTES} * ${v}.length;`,
          `b[${a}] = ${OPA_ARRAY};`,
          store(`${a} + 4`, `${v}.length === 0 ? 0 : ${a} + ${COLLECTION_BYTES}`),
          store(`${a} + 8`, `${v}.length`),
          store(`${a} + 12`, `${v}.length`),
        ].join(" ");
        const elem = `${a} + ${COLLECTION_BYTES} + ${ARRAY_ELEM_BYTES} * ${i}`;
        const loop = `for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { const ${item} = ${v}[${i}]; ${inner} ${store(elem, `${form.indices} + ${NUMBER_BYTES} * ${i}`)} ${store(`${elem} + 4`, at)} }`;
        return [`${check}${header} ${loop}`, COLLECTION_BYTES + node.maxItems * (ARRAY_ELEM_BYTES + size), a];
      }
      case "object": {
        if (!node.properties) throw new Error("input contract: an object without properties");
        const keys = Object.keys(node.properties);
        let check = "";
        if (checked) {
          const k = fresh("k");
          check = `if (${v} === null || typeof ${v} !== "object" || Array.isArray(${v})) ${fail} `;
          if (node.additionalProperties === false) {
            check += `for (const ${k} in ${v}) { if (!(${keys.map((key) => `${k} === ${JSON.stringify(key)}`).join(" || ")})) ${fail} } `;
          }
        }
        if (form) return writeObject(node, keys, v, check, form);
        let size = 1;
        const fields = keys.map((key, n) => {
          const sub = node.properties![key]!;
          const local = fresh();
          const prefix = `${n === 0 ? "{" : ","}${JSON.stringify(key)}:`;
          let [inner, fieldSize] = write(sub, local);
          if (checked && "default" in sub) {
            // An absent field is written as its default, which the contract fills in.
            const fill = JSON.stringify(sub.default);
            inner = `if (${local} === undefined) { ${constant(fill)} } else { ${inner} }`;
            fieldSize = Math.max(fieldSize, encoder.encode(fill).length);
          } else inner = `${requirePresent(node, key, local)}${inner}`;
          size += encoder.encode(prefix).length + fieldSize;
          return `${constant(prefix)} const ${local} = ${v}[${JSON.stringify(key)}]; ${inner}`;
        });
        if (fields.length === 0) return [`${check}${constant("{}")}`, 2, ""];
        return [`${check}${fields.join(" ")} ${constant("}")}`, size, ""];
      }
      default:
        throw new Error(`input contract: no writer for ${JSON.stringify(node).slice(0, 80)}`);
    }
  };

  /** Checked, a field without a default must be there; unchecked, the document has every field. */
  const requirePresent = (node: Schema, key: string, local: string): string => {
    if (checked && node.required?.includes(key)) return `if (${local} === undefined) ${fail} `;
    if (checked || !node.required?.includes(key)) throw new Error(`input contract: ${key} may be absent without a default`);
    return "";
  };

  /**
   * An object as OPA's parser builds it: opa_object_t, its buckets, one element { k; v; next }
   * per key (in the schema's order, chained as OPA chains them), then the values.
   */
  const writeObject = (node: Schema, keys: string[], v: string, check: string, values: ValueForm): [string, number, string] => {
    const { buckets, chains } = values.layout(keys);
    const o = fresh("a");
    const elems = COLLECTION_BYTES + 4 * buckets;
    const elem = (position: number) => `${o} + ${elems + OBJECT_ELEM_BYTES * position}`;
    const parts = [
      `const ${o} = p; p += ${elems + OBJECT_ELEM_BYTES * keys.length};`,
      `b[${o}] = ${OPA_OBJECT};`,
      store(`${o} + 4`, `${o} + ${COLLECTION_BYTES}`),
      store(`${o} + 8`, buckets),
      store(`${o} + 12`, keys.length),
    ];
    for (let bucket = 0; bucket < buckets; bucket++) {
      const chain = chains[bucket] ?? [];
      parts.push(store(`${o} + ${COLLECTION_BYTES + 4 * bucket}`, chain.length === 0 ? 0 : elem(chain[0]!)));
      chain.forEach((position, n) => {
        parts.push(store(elem(position), values.key(keys[position]!)));
        parts.push(store(`${elem(position)} + 8`, n + 1 < chain.length ? elem(chain[n + 1]!) : 0));
      });
    }
    let size = elems + OBJECT_ELEM_BYTES * keys.length;
    keys.forEach((key, position) => {
      const sub = node.properties![key]!;
      const local = fresh();
      // An absent field takes its default, which the contract fills in, and is written as one.
      const fill = checked && "default" in sub ? ` if (${local} === undefined) ${local} = ${JSON.stringify(sub.default)};` : "";
      const present = fill ? "" : requirePresent(node, key, local);
      const [inner, fieldSize, at] = write(sub, local);
      size += fieldSize;
      parts.push(`let ${local} = ${v}[${JSON.stringify(key)}];${fill} ${present}${inner} ${store(`${elem(position)} + 4`, at)}`);
    });
    return [`${check}${parts.join(" ")}`, size, o];
  };

  if (!form) {
    const [body, maxBytes] = write(schema, "value");
    const compiled = new Function("S", "N", "L", "R", "F", "b", "p", "value", `${body} return p;`) as (
      s: typeof writeString,
      n: typeof writeNumber,
      l: typeof codePoints,
      r: readonly RegExp[],
      f: typeof FORMATS,
      bytes: Uint8Array,
      at: number,
      value: unknown,
    ) => number;
    const writer = (bytes: Uint8Array, at: number, value: unknown) => compiled(writeString, writeNumber, codePoints, patterns, FORMATS, bytes, at, value);
    return Object.assign(writer, { maxBytes });
  }
  const [body, size] = write(schema, "value");
  const compiled = new Function("S", "N", "L", "R", "F", "b", "I", "p", "value", `${body} return p;`) as (
    s: typeof writeStringValue,
    n: typeof writeNumberValue,
    l: typeof codePoints,
    r: readonly RegExp[],
    f: typeof FORMATS,
    bytes: Uint8Array,
    ints: Int32Array,
    at: number,
    value: unknown,
  ) => number;
  // One Int32Array per memory buffer (a grown memory detaches the old one).
  let ints: Int32Array<ArrayBufferLike> = new Int32Array(0);
  const writer = (bytes: Uint8Array, at: number, value: unknown) => {
    if (ints.buffer !== bytes.buffer) ints = new Int32Array(bytes.buffer);
    return compiled(writeStringValue, writeNumberValue, codePoints, patterns, FORMATS, bytes, ints, at, value);
  };
  return Object.assign(writer, { maxBytes: size });
}

/**
 * Writes opa_string_t { hdr; free; len; v } at `at` with its UTF-8 text after it, and returns
 * the next 4-aligned offset; TOO_LONG for a string that is not well-formed UTF-16 (a lone
 * surrogate), which UTF-8 cannot carry as JSON's escape does: that document goes as text.
 */
function writeStringValue(bytes: Uint8Array, ints: Int32Array<ArrayBufferLike>, at: number, text: string): number {
  const start = at + STRING_BYTES;
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return TOO_LONG;
      length = encoder.encodeInto(text, bytes.subarray(start)).written;
      break;
    }
    bytes[start + i] = c;
  }
  bytes[at] = OPA_STRING;
  bytes[at + 1] = 0;
  ints[(at + 4) >> 2] = length;
  ints[(at + 8) >> 2] = start;
  return (start + length + 3) & ~3;
}

/**
 * Writes opa_number_t at `at` and returns the next 4-aligned offset: a 32-bit integer as OPA's
 * integer (OPA_NUMBER_REPR_INT, as the bundle's module keeps such integers its parser reads, and
 * only those: see src/wasm/rewrite/parsed-integers.ts for why no larger), anything else as OPA's parser
 * keeps a number from JSON (its text, which follows the struct: a ref). Both are the same number
 * to OPA and written out as the same text.
 */
function writeNumberValue(bytes: Uint8Array, ints: Int32Array<ArrayBufferLike>, at: number, value: number): number {
  if ((value | 0) === value) {
    bytes[at] = OPA_NUMBER;
    bytes[at + 1] = REPR_INT;
    // A 64-bit integer, low word first: the value, then its sign.
    ints[(at + 8) >> 2] = value;
    ints[(at + 12) >> 2] = value < 0 ? -1 : 0;
    return at + NUMBER_BYTES;
  }
  const start = at + NUMBER_BYTES;
  const text = "" + value;
  for (let i = 0; i < text.length; i++) bytes[start + i] = text.charCodeAt(i);
  bytes[at] = OPA_NUMBER;
  bytes[at + 1] = REPR_REF;
  ints[(at + 8) >> 2] = start;
  ints[(at + 12) >> 2] = text.length;
  bytes[at + 16] = 0;
  return (start + text.length + 3) & ~3;
}

/**
 * A document of the schema's shape in which every object and list is present and full of every
 * kind of value the writer writes (lists of two, strings with multi-byte and escaped characters),
 * not necessarily meeting its checks: what a value form is proven with (host.ts, `writesAsParsed`).
 */
export function probeDocument(node: Schema): unknown {
  if (Array.isArray(node.type)) return probeDocument({ ...node, type: node.type.find((type) => type !== "null") });
  if (node.anyOf) return probeDocument(node.anyOf.find((branch) => branch.type !== "null") ?? { type: "null" });
  switch (node.type) {
    case "null":
      return null;
    case "boolean":
      return true;
    case "integer":
      return 1795852800;
    case "number":
      return -0.25;
    case "string":
      return 'ü€😀 "q"\\\n\u0001';
    case "array":
      return [probeDocument(node.items ?? {}), probeDocument(node.items ?? {})];
    case "object":
      return Object.fromEntries(Object.entries(node.properties ?? {}).map(([key, sub]) => [key, probeDocument(sub)]));
    default:
      throw new Error(`input contract: no probe for ${JSON.stringify(node).slice(0, 80)}`);
  }
}

/** The longest list the schema allows anywhere: how many list indices a value form needs. */
export function longestList(node: Schema): number {
  const children = [...(node.anyOf ?? []), ...Object.values(node.properties ?? {}), ...(node.items ? [node.items] : [])];
  return Math.max(node.maxItems ?? 0, ...children.map(longestList));
}

function stringBound(node: Schema): number {
  if (node.maxLength !== undefined) return node.maxLength;
  if (node.enum) return Math.max(...node.enum.map((v) => String(v).length));
  return UNBOUNDED_STRING;
}

/** Writes a JSON string; ASCII without escapes byte by byte, anything else through the encoder. */
function writeString(bytes: Uint8Array, at: number, text: string): number {
  let p = at + 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      return at + encoder.encodeInto(JSON.stringify(text), bytes.subarray(at)).written;
    }
    bytes[p++] = c;
  }
  bytes[at] = 0x22;
  bytes[p] = 0x22;
  return p + 1;
}

/** Writes a JSON number as JavaScript prints it (which is JSON's form for every finite number). */
function writeNumber(bytes: Uint8Array, at: number, value: number): number {
  const text = "" + value;
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** A string's length in code points. */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
