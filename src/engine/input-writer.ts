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
 * field present); `checked`, for documents straight from a caller.
 */
export function compileInputWriter(schema: Schema, options: { checked?: boolean } = {}): InputWriter {
  const checked = options.checked ?? false;
  let next = 0;
  const fresh = (prefix = "v") => `${prefix}${next++}`;
  const patterns: RegExp[] = [];
  const constant = (text: string): string => {
    const bytes = encoder.encode(text);
    return `${[...bytes].map((byte, i) => `b[p${i ? ` + ${i}` : ""}] = ${byte};`).join(" ")} p += ${bytes.length};`;
  };
  const fail = `return ${INVALID};`;

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

  /** [statements writing `v` (a local) at p, checking it first when checked, the most bytes they write] */
  const write = (node: Schema, v: string): [string, number] => {
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
      if (nonNull.length === 1) [inner, size] = write(nonNull[0]!, v);
      else if (nonNull.every((branch) => branch.type === "string")) {
        // A union of string formats: check against each, write as a string.
        [inner, size] = write({ type: "string", maxLength: Math.max(...nonNull.map(stringBound)) }, v);
        if (checked) inner = `if (!${test({ anyOf: nonNull }, v)}) ${fail} ${inner}`;
      } else throw new Error(`input contract: a union of ${nonNull.map((branch) => branch.type).join(", ")}`);
      if (!nullable) return [inner, size];
      return [`if (${v} === null) { ${constant("null")} } else { ${inner} }`, Math.max(4, size)];
    }
    switch (node.type) {
      case "string": {
        const bound = stringBound(node);
        const check = checked ? `if (!${test(node, v)}) ${fail} ` : "";
        // A string the schema does not bound (a pattern such as ^[A-Z]{2}$ bounds it only in
        // effect) is written only up to an assumed length; a longer one abandons the write.
        const guard = node.maxLength === undefined && !node.enum ? `if (${v}.length > ${bound}) return ${TOO_LONG}; ` : "";
        return [`${check}${guard}p = S(b, p, ${v});`, 2 + MAX_BYTES_PER_CHAR * bound];
      }
      case "number":
      case "integer":
      case "boolean": {
        const check = checked ? `if (!${test(node, v)}) ${fail} ` : "";
        if (node.type === "boolean") return [`${check}if (${v}) { ${constant("true")} } else { ${constant("false")} }`, 5];
        return [`${check}p = N(b, p, ${v});`, MAX_NUMBER_BYTES];
      }
      case "array": {
        if (!node.items || node.maxItems === undefined) throw new Error("input contract: a list without a bound");
        const i = fresh("i");
        const item = fresh();
        const [inner, size] = write(node.items, item);
        const check = checked
          ? `if (!Array.isArray(${v}) || ${v}.length > ${node.maxItems}${node.minItems ? ` || ${v}.length < ${node.minItems}` : ""}) ${fail} `
          : "";
        const loop = `for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { if (${i} > 0) { ${constant(",")} } const ${item} = ${v}[${i}]; ${inner} }`;
        return [`${check}${constant("[")} ${loop} ${constant("]")}`, 2 + node.maxItems * (size + 1)];
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
          } else if (checked && node.required?.includes(key)) {
            inner = `if (${local} === undefined) ${fail} ${inner}`;
          } else if (checked || !node.required?.includes(key)) {
            throw new Error(`input contract: ${key} may be absent without a default`);
          }
          size += encoder.encode(prefix).length + fieldSize;
          return `${constant(prefix)} const ${local} = ${v}[${JSON.stringify(key)}]; ${inner}`;
        });
        if (fields.length === 0) return [`${check}${constant("{}")}`, 2];
        return [`${check}${fields.join(" ")} ${constant("}")}`, size];
      }
      default:
        throw new Error(`input contract: no writer for ${JSON.stringify(node).slice(0, 80)}`);
    }
  };

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
