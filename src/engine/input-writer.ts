/**
 * The input document written as JSON straight into the policy's memory, compiled once from the
 * input contract's JSON Schema (the `io: "output"` one: every field present, unknowns null).
 * `JSON.stringify` would build a string that then has to be encoded into memory; here the keys are
 * byte stores compiled in, in the schema's order, and each value is written by the code for its
 * type. ASCII strings — nearly every string — never become intermediate text.
 *
 * The contract bounds every string and list, so the largest document it allows is known when the
 * writer is compiled (`maxBytes`): the engine reserves that much once instead of checking space
 * while writing.
 */

type Schema = {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly maxItems?: number;
  readonly maxLength?: number;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
};

/** Writes a document at `at` in `bytes` and returns where it ends, or -1 when it would not fit. */
export type InputWriter = ((bytes: Uint8Array, at: number, value: unknown) => number) & { readonly maxBytes: number };

const encoder = new TextEncoder();
// A character (a code point, as the contract counts them) takes at most 6 bytes in JSON text
// (\u001f, or a lone surrogate escaped); a number at most 24 (-1.7976931348623157e+308).
const MAX_BYTES_PER_CHAR = 6;
const MAX_NUMBER_BYTES = 24;

/** Compiles a writer for documents that already meet the schema. */
export function compileInputWriter(schema: Schema): InputWriter {
  let next = 0;
  const fresh = () => `v${next++}`;
  // Statements that write `text` (fixed at compile time) at p.
  const constant = (text: string): string => {
    const bytes = encoder.encode(text);
    return `${[...bytes].map((byte, i) => `b[p${i ? ` + ${i}` : ""}] = ${byte};`).join(" ")} p += ${bytes.length};`;
  };
  // [statements writing `value` (a local) at p, the most bytes they write]
  const write = (node: Schema, value: string): [string, number] => {
    if (Array.isArray(node.type)) {
      // ["boolean", "null"] and the like: a nullable value of one type.
      const types = node.type.filter((type) => type !== "null");
      if (types.length !== 1) return anyValue(node, value);
      return write({ anyOf: [{ ...node, type: types[0] }, { type: "null" }] }, value);
    }
    if (node.anyOf) {
      const nonNull = node.anyOf.filter((branch) => branch.type !== "null");
      const [inner, size] =
        nonNull.length === 1
          ? write(nonNull[0]!, value)
          : nonNull.every((branch) => branch.type === "string")
            ? write({ type: "string", maxLength: Math.max(...nonNull.map(stringBound)) }, value)
            : anyValue(node, value);
      return [`if (${value} === null) { ${constant("null")} } else { ${inner} }`, Math.max(4, size)];
    }
    switch (node.type) {
      case "string": {
        const bound = stringBound(node);
        // A string the schema does not bound (a pattern such as ^[A-Z]{2}$ bounds it only in
        // effect) is written only up to an assumed length; a longer one abandons the write.
        const guard = node.maxLength === undefined && !node.enum ? `if (${value}.length > ${bound}) return -1; ` : "";
        return [`${guard}p = S(b, p, ${value});`, 2 + MAX_BYTES_PER_CHAR * bound];
      }
      case "number":
      case "integer":
        return [`p = N(b, p, ${value});`, MAX_NUMBER_BYTES];
      case "boolean":
        return [`if (${value}) { ${constant("true")} } else { ${constant("false")} }`, 5];
      case "array": {
        if (!node.items || node.maxItems === undefined) throw new Error("input contract: a list without a bound");
        const i = fresh();
        const item = fresh();
        const [inner, size] = write(node.items, item);
        const loop = `for (let ${i} = 0; ${i} < ${value}.length; ${i}++) { if (${i} > 0) { ${constant(",")} } const ${item} = ${value}[${i}]; ${inner} }`;
        return [`${constant("[")} ${loop} ${constant("]")}`, 2 + node.maxItems * (size + 1)];
      }
      case "object": {
        if (!node.properties) throw new Error("input contract: an object without properties");
        let size = 1;
        const fields = Object.entries(node.properties).map(([key, sub], n) => {
          if (!node.required?.includes(key)) throw new Error(`input contract: ${key} may be absent in the policy's input`);
          const local = fresh();
          const prefix = `${n === 0 ? "{" : ","}${JSON.stringify(key)}:`;
          const [inner, fieldSize] = write(sub, local);
          size += encoder.encode(prefix).length + fieldSize;
          return `${constant(prefix)} const ${local} = ${value}[${JSON.stringify(key)}]; ${inner}`;
        });
        if (fields.length === 0) return [constant("{}"), 2];
        return [`${fields.join(" ")} ${constant("}")}`, size];
      }
      default:
        return anyValue(node, value);
    }
  };
  const [body, maxBytes] = write(schema, "value");
  const compiled = new Function("S", "N", "b", "p", "value", `${body} return p;`) as (
    s: typeof writeString,
    n: typeof writeNumber,
    bytes: Uint8Array,
    at: number,
    value: unknown,
  ) => number;
  const writer = (bytes: Uint8Array, at: number, value: unknown) => compiled(writeString, writeNumber, bytes, at, value);
  return Object.assign(writer, { maxBytes });
}

// What a string without maxLength is assumed to need (formats and patterns bound those in effect).
const UNBOUNDED_STRING = 64;

function stringBound(node: Schema): number {
  if (node.maxLength !== undefined) return node.maxLength;
  if (node.enum) return Math.max(...node.enum.map((v) => String(v).length));
  return UNBOUNDED_STRING;
}

function anyValue(node: Schema, _value: string): [string, number] {
  throw new Error(`input contract: no writer for ${JSON.stringify(node).slice(0, 80)}`);
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
