/**
 * A decision-log event written as one line of UTF-8 JSON straight into a reusable buffer, by
 * straight-line code compiled from the contracts' JSON Schemas (the input's and the verdict's):
 * keys become byte stores, each value is written by the code for its type, and ASCII strings —
 * nearly every string — never become intermediate text, as they do through `JSON.stringify`.
 *
 * The bytes are always exactly `JSON.stringify(event)`'s: the schema only says which code to
 * expect a value to suit. Each compiled value checks that it does (its type, an object's keys and
 * their order) and the write gives up (`FALLBACK`) at the first that does not — a document that
 * is not the SDK's, a mask's upsert that adds a key — and the logger stringifies that event
 * instead. What the schemas leave open (labels, records, a masked value) is written by a generic
 * writer with `JSON.stringify`'s rules. The mask's rules are known when the writer is compiled:
 * a removed field becomes optional there, a rewritten one generic, so masked events keep the
 * compiled path.
 */
import type { ParsedMaskRule } from "../contracts/decision-log.js";
import { jsonSchemas } from "../contracts/json-schema.js";
import type { Schema } from "../input/compile.js";
import { writeJsonNumber as writeNumber, writeJsonString } from "../input/json-text.js";
import { inputJsonSchema } from "../input/validate.js";

/** The value does not suit the compiled code: write the event with `JSON.stringify`. */
export const FALLBACK = -2;
/** The buffer is too small for the event. */
const FULL = -1;
/** Bytes kept free past the point where a field may start: a key and a number fit in it. */
const MARGIN = 1024;
/** A string or generic value leaves this much room for the closing brackets after it. */
const TAIL = 64;

const encoder = new TextEncoder();

type Write = (bytes: Uint8Array, at: number, value: unknown, end: number) => number;
type Helpers = readonly [typeof writeString, typeof writeNumber, typeof writeValue];

/** A schema node as the event writer reads it; `same` marks a value that is one object every time (the logger's labels). */
type Node = Schema & {
  readonly same?: { readonly value: unknown; readonly bytes: Uint8Array };
  /** Objects below come with their keys in any order (the policy's: OPA's objects are hash tables). */
  readonly anyOrder?: boolean;
  readonly oneOf?: readonly Schema[];
};

export class EventWriter {
  private bytes_ = Buffer.allocUnsafe(16 * 1024);
  private write_: Write | undefined;

  /**
   * @param labels the object every event carries as its `labels` (written as fixed bytes).
   * @param bundleName the name the bundle is logged under in `bundles`.
   * @param mask the mask's rules, so that masked fields keep the compiled path.
   * @param maxBytes the largest event written into the buffer; past it, `write` falls back.
   */
  constructor(
    private readonly labels: object,
    private readonly bundleName: string,
    private readonly mask: readonly ParsedMaskRule[],
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  /** The buffer the last event was written into (valid until the next `write`). */
  get bytes(): Buffer {
    return this.bytes_;
  }

  /** Writes the event at the buffer's start and returns its length, or `FALLBACK`. */
  write(event: object): number {
    // Compiled on the first event, so that loading the SDK does not pay for it.
    this.write_ ??= compileEventWriter(this.labels, this.bundleName, this.mask);
    for (;;) {
      const bytes = this.bytes_;
      const n = this.write_(bytes, 0, event, bytes.length - MARGIN);
      if (n !== FULL) return n;
      if (bytes.length >= this.maxBytes) return FALLBACK;
      this.bytes_ = Buffer.allocUnsafe(Math.min(bytes.length * 4, this.maxBytes));
    }
  }
}

/** The writer of OPA's event layout, in `toLogEvent`'s field order. */
function compileEventWriter(labels: object, bundleName: string, mask: readonly ParsedMaskRule[]): Write {
  const string: Node = { type: "string" };
  const strings: Node = { type: "array", items: string };
  const event: Node = {
    type: "object",
    properties: {
      labels: { same: { value: labels, bytes: encoder.encode(JSON.stringify(labels)) } } as Node,
      decision_id: string,
      trace_id: string,
      span_id: string,
      bundles: { type: "object", properties: { [bundleName]: { type: "object", properties: { revision: string } } } },
      path: string,
      input: masked(inputJsonSchema("output"), mask, "input"),
      result: { ...masked(jsonSchemas().verdict as Schema, mask, "result"), anyOrder: true } as Node,
      erased: strings,
      masked: strings,
      error: { type: "object", properties: { code: string, message: string } },
      timestamp: string,
      metrics: { type: "object", properties: { timer_stepup_decide_ns: { type: "number" } } },
      req_id: { type: "number" },
      custom: {},
    },
    required: [],
  };
  return compileWriter(event);
}

/**
 * The schema of a root as the mask leaves it: what a rule rewrites (a hash, an address cut short,
 * an upserted value, a list it reaches into, or the whole root) becomes generic. A removed field
 * needs nothing: an object's code writes the keys it finds.
 */
export function masked(schema: Schema, rules: readonly ParsedMaskRule[], root: "input" | "result"): Schema {
  let out: Schema = schema;
  for (const rule of rules) {
    const path = typeof rule === "string" ? rule : rule.path;
    const [first, ...keys] = path.slice(1).split("/").map(decodeURIComponent);
    if (first !== root) continue;
    if (keys.length === 0) return {};
    out = generic(out, keys);
  }
  return out;
}

function generic(node: Schema, keys: readonly string[]): Schema {
  const [key, ...rest] = keys as [string, ...string[]];
  if (node.anyOf) return { ...node, anyOf: node.anyOf.map((branch) => (branch.type === "object" ? generic(branch, keys) : branch)) };
  if (node.type === "array") return {};
  if (!node.properties || !Object.hasOwn(node.properties, key)) return node;
  return { ...node, properties: { ...node.properties, [key]: rest.length > 0 ? generic(node.properties[key]!, rest) : {} } };
}

/** Compiles a writer of values meeting `schema`, as `JSON.stringify` writes them. */
export function compileWriter(schema: Schema): Write {
  let next = 0;
  const fresh = (prefix: string) => `${prefix}${next++}`;
  const constants: string[] = [];
  const constant = (value: unknown) => {
    const name = fresh("C");
    constants.push(`const ${name} = ${JSON.stringify(value)};`);
    return name;
  };
  // Constant text four bytes a store (a DataView over the buffer), the rest byte by byte.
  const bytesOf = (text: string) => {
    const bytes = encoder.encode(text);
    const stores: string[] = [];
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      const word = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
      stores.push(`d.setUint32(p${i ? ` + ${i}` : ""}, ${word}, true);`);
    }
    for (; i < bytes.length; i++) stores.push(`b[p${i ? ` + ${i}` : ""}] = ${bytes[i]};`);
    return `${stores.join(" ")} p += ${bytes.length};`;
  };
  const NULL = bytesOf("null");
  // A plain object (for..in then takes its own keys alone, as JSON.stringify does: the write
  // starts by checking that Object.prototype has no enumerable key and no toJSON).
  const plainObject = (v: string) =>
    `if (typeof ${v} !== "object" || ${v} === null || Array.isArray(${v}) || Object.getPrototypeOf(${v}) !== OP || ${v}.toJSON !== undefined) return ${FALLBACK};`;
  const generic = (v: string) => `p = G(b, p, ${v}); if (p < 0) return p;`;
  const sameObjects: unknown[] = [];

  const compile = (node: Node, v: string, anyOrder = false): string => {
    anyOrder ||= node.anyOrder === true;
    if (node.oneOf) return compile(union(node.oneOf), v, anyOrder);
    if (node.same) {
      const value = `O[${sameObjects.push(node.same.value) - 1}]`;
      const bytes = `O[${sameObjects.push(node.same.bytes) - 1}]`;
      const length = node.same.bytes.length;
      return `if (${v} === ${value}) { if (p + ${length} > b.length - ${TAIL}) return ${FULL}; b.set(${bytes}, p); p += ${length}; } else { ${generic(v)} }`;
    }
    const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
    if (types.length > 1 || node.anyOf) {
      const branches = node.anyOf ?? types.map((type) => ({ ...node, type }));
      const nonNull = branches.filter((branch) => branch.type !== "null");
      if (nonNull.length !== 1) return generic(v);
      const inner = compile(nonNull[0]!, v, anyOrder);
      return nonNull.length < branches.length ? `if (${v} === null) { ${NULL} } else { ${inner} }` : inner;
    }
    switch (node.type) {
      case "string": {
        const write = `if (typeof ${v} !== "string") return ${FALLBACK}; p = S(b, p, ${v}); if (p < 0) return p;`;
        // The contract's few values as constant bytes, any other string as any string.
        const values = (node.enum ?? []).filter((value): value is string => typeof value === "string");
        // Short values only: a constant's bytes are written without a check of their own (MARGIN).
        if (values.length === 0 || values.length > 8 || values.some((value) => JSON.stringify(value).length > 128)) return write;
        return `${values.map((value) => `if (${v} === ${JSON.stringify(value)}) { ${bytesOf(JSON.stringify(value))} }`).join(" else ")} else { ${write} }`;
      }
      case "number":
      case "integer":
        return `if (typeof ${v} !== "number") return ${FALLBACK}; p = N(b, p, ${v});`;
      case "boolean":
        return `if (${v} === true) { ${bytesOf("true")} } else if (${v} === false) { ${bytesOf("false")} } else return ${FALLBACK};`;
      case "null":
        return `if (${v} !== null) return ${FALLBACK}; ${NULL}`;
      case "array": {
        if (!node.items) return generic(v);
        const [i, item] = [fresh("i"), fresh("v")];
        const inner = compile(node.items, item, anyOrder);
        return `if (!Array.isArray(${v}) || ${v}.toJSON !== undefined) return ${FALLBACK}; b[p++] = 91; for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { if (p > e) return ${FULL}; if (${i} > 0) b[p++] = 44; const ${item} = ${v}[${i}]; ${inner} } b[p++] = 93;`;
      }
      case "object": {
        if (node.properties) return anyOrder ? keyed(node, v) : object(node, v);
        if (typeof node.additionalProperties === "object") {
          const [k, item, c] = [fresh("k"), fresh("v"), fresh("c")];
          const inner = compile(node.additionalProperties, item, anyOrder);
          return `${plainObject(v)} b[p++] = 123; let ${c} = false; for (const ${k} in ${v}) { const ${item} = ${v}[${k}]; if (${item} === undefined) continue; if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; p = S(b, p, ${k}); if (p < 0) return p; b[p++] = 58; ${inner} } b[p++] = 125;`;
        }
        return generic(v);
      }
      default:
        return generic(v);
    }
  };

  /**
   * An object of known fields: when its keys come in the schema's order (absent ones skipped), as
   * the SDK's documents have them, straight-line code writes them in that order; otherwise (keys
   * in another order, one the schema does not have) the generic writer takes the object.
   */
  const object = (node: Node, v: string): string => {
    const keys = Object.keys(node.properties!);
    const [K, j, k, c] = [constant(keys), fresh("j"), fresh("k"), fresh("c")];
    const ordered = `let ${j} = 0; for (const ${k} in ${v}) { while (${j} < ${keys.length} && ${k} !== ${K}[${j}]) ${j}++; if (${j}++ === ${keys.length}) break; }`;
    const fields = keys.map((key) => {
      const local = fresh("v");
      const keyText = JSON.stringify(key);
      if (keyText.length > 256) throw new Error(`event writer: key ${keyText.slice(0, 40)}… is too long`);
      const write = `if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; ${bytesOf(`${keyText}:`)} ${compile(node.properties![key]!, local)}`;
      return `const ${local} = ${v}[${keyText}]; if (${local} !== undefined) { ${write} }`;
    });
    return (
      `${plainObject(v)} ${ordered} if (${j} > ${keys.length}) { ${generic(v)} } else { ` +
      `let ${c} = false; b[p++] = 123; ${fields.join(" ")} b[p++] = 125; }`
    );
  };

  /**
   * An object of known fields whose keys come in any order: each key as it comes, by its
   * compiled code, any other by the generic writer.
   */
  const keyed = (node: Node, v: string): string => {
    const [k, x, c] = [fresh("k"), fresh("v"), fresh("c")];
    const cases = Object.keys(node.properties!).map((key) => {
      const keyText = JSON.stringify(key);
      if (keyText.length > 256) throw new Error(`event writer: key ${keyText.slice(0, 40)}… is too long`);
      return `case ${keyText}: { ${bytesOf(`${keyText}:`)} ${compile(node.properties![key]!, x, true)} break; }`;
    });
    const other = `default: { p = S(b, p, ${k}); if (p < 0) return p; b[p++] = 58; ${generic(x)} }`;
    return (
      `${plainObject(v)} b[p++] = 123; let ${c} = false; ` +
      `for (const ${k} in ${v}) { const ${x} = ${v}[${k}]; if (${x} === undefined) continue; if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; ` +
      `switch (${k}) { ${cases.join(" ")} ${other} } } b[p++] = 125;`
    );
  };

  const body = compile(schema as Node, "value");
  const prelude = `if (OP.toJSON !== undefined || Array.prototype.toJSON !== undefined) return ${FALLBACK}; for (const k in OP) return ${FALLBACK};`;
  const make = new Function("S", "N", "G", "O", "OP", `${constants.join(" ")} let db = null; let d = null; return function write(b, p, value, e) { if (b !== db) { db = b; d = new DataView(b.buffer, b.byteOffset, b.byteLength); } ${prelude} ${body} return p; };`);
  const helpers: Helpers = [writeString, writeNumber, writeValue];
  return make(...helpers, sameObjects, Object.prototype) as Write;
}

/**
 * One object node for a union of objects (a requirement is one of two kinds): every key of every
 * branch, with the branches' schema when they agree on its type, else generic.
 */
function union(branches: readonly Schema[]): Schema {
  if (!branches.every((branch) => branch.type === "object" && branch.properties)) return {};
  const properties: Record<string, Schema> = {};
  for (const branch of branches) {
    for (const [key, sub] of Object.entries(branch.properties!)) {
      const seen = properties[key];
      if (seen === undefined) properties[key] = sub;
      else if (JSON.stringify(seen) !== JSON.stringify(sub)) properties[key] = seen.type === sub.type && typeof sub.type === "string" && sub.type !== "array" && sub.type !== "object" ? { type: sub.type } : {};
    }
  }
  return { type: "object", properties };
}

/** A string as JSON text, when it has room before the closing brackets. */
function writeString(bytes: Uint8Array, at: number, text: string): number {
  return at + 6 * text.length + 2 > bytes.length - TAIL ? FULL : writeJsonString(bytes, at, text);
}

/** Any value, by `JSON.stringify`'s rules for plain data; `FALLBACK` for anything else (`toJSON`, a class, a bigint). */
function writeValue(bytes: Uint8Array, at: number, value: unknown): number {
  let p = at;
  if (p > bytes.length - TAIL - 8) return FULL;
  switch (typeof value) {
    case "string":
      return writeString(bytes, p, value);
    case "number":
      return writeNumber(bytes, p, value);
    case "boolean":
      return ascii(bytes, p, value ? "true" : "false");
    case "object": {
      if (value === null) return ascii(bytes, p, "null");
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype || (value as { toJSON?: unknown }).toJSON !== undefined) return FALLBACK;
        bytes[p++] = 91;
        for (let i = 0; i < value.length; i++) {
          if (i > 0) bytes[p++] = 44;
          const item: unknown = value[i];
          p = item === undefined || typeof item === "function" || typeof item === "symbol" ? ascii(bytes, p, "null") : writeValue(bytes, p, item);
          if (p < 0) return p;
          if (p > bytes.length - TAIL - 8) return FULL;
        }
        bytes[p++] = 93;
        return p;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || (value as { toJSON?: unknown }).toJSON !== undefined) return FALLBACK;
      bytes[p++] = 123;
      let first = true;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
        if (!first) bytes[p++] = 44;
        first = false;
        p = writeString(bytes, p, key);
        if (p < 0) return p;
        bytes[p++] = 58;
        p = writeValue(bytes, p, item);
        if (p < 0) return p;
        if (p > bytes.length - TAIL - 8) return FULL;
      }
      bytes[p++] = 125;
      return p;
    }
    default:
      return FALLBACK;
  }
}

function ascii(bytes: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + text.length;
}
