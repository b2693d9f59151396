/**
 * The input document written straight into the policy's memory, by code the input contract's
 * compiler (src/input/compile.ts) generates from its JSON Schema: this file gives the compiler
 * its two writing targets. As JSON text: keys become byte stores, in the schema's order, and each
 * value is written by the code for its type; ASCII strings — nearly every string — never become
 * intermediate text, as they would through `JSON.stringify`.
 *
 * Compiled from the `io: "input"` schema with `checked`, the writer also checks every value as
 * it writes it and fills in the defaults of absent fields — the compiler's checks, the same as the
 * checker's: one pass over the caller's document instead of a validator's pass, a normalizer's
 * and a writer's. It answers only whether the document meets the contract (-2 when not); zod
 * names the problems then. A property test holds its answers to zod's
 * (test/contracts/compiled.test.ts).
 *
 * The contract bounds every string and list, so the largest document it allows is known when the
 * writer is compiled (`maxBytes`): the engine reserves that much once instead of checking for
 * space while writing.
 *
 * Compiled with a `ValueForm`, the writer writes the document as OPA's values instead of JSON
 * text: the structs OPA's JSON parser would build (layout.ts), laid out as the parser lays
 * them out, so that the policy need not parse the input at all. Object keys, booleans, null and
 * list indices are values written once per instance (the form's constants); each object's buckets
 * are OPA's own for its keys, learnt from OPA's parser. The host proves the form on every instance
 * before using it (host.ts, `valueForm`).
 *
 * Checked, a writer of OPA's values takes the caller's document itself: the compiled code reads
 * each field once (compile.ts), and the writer builds from what it read a copy of the document
 * with its defaults filled in — the normalized input, which the decision is concluded on and
 * logged with (`document`). So the document is read once, in one pass, rather than copied by
 * src/input/snapshot.ts first and then read again to be checked and written.
 */
import { FORMATS } from "../contracts/compiled.js";
import { codePoints, compileSchema, INVALID, matcher, TOO_LONG, type CompileContext, type Emitted, type Matcher, type Schema, type Target } from "../input/compile.js";
import { writeJsonNumber, writeJsonString } from "../input/json-text.js";
import { ARRAY_ELEM_T, ARRAY_T, NUMBER_REF_T, NUMBER_REPR, NUMBER_T, OBJECT_ELEM_T, OBJECT_T, POINTER_BYTES, STRING_T, TYPE } from "./layout.js";

export { INVALID, TOO_LONG };

/**
 * Writes a document at `at` in `bytes` and returns where it ends; -1 when a value is longer than
 * the writer was compiled for (write it as text instead), -2 when a checked writer finds the
 * document breaks the contract.
 */
export type InputWriter = ((bytes: Uint8Array, at: number, value: unknown) => number) & {
  readonly maxBytes: number;
  /**
   * A checked writer of OPA's values reads the caller's document once and builds, as it writes,
   * a copy of it with every default filled in (the normalized input): the copy the last write
   * that succeeded read. Undefined on other writers.
   */
  readonly document?: () => unknown;
};

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
  /** Learns the layouts of objects with these keys, and their keys, at once, before `layout` and `key` are asked for them. */
  prepare?(objects: readonly (readonly string[])[]): void;
}

/** Bytes between list indices in a value form: each is an opa_number_t. */
export const NUMBER_BYTES = NUMBER_T.size;

const encoder = new TextEncoder();
// A character (a code point, as the contract counts them) takes at most 6 bytes in JSON text
// (\u001f, or a lone surrogate escaped); a number at most 24 (-1.7976931348623157e+308).
const MAX_BYTES_PER_CHAR = 6;
const MAX_NUMBER_BYTES = 24;

/** A JSON writer's compiled body, with the helpers it calls passed in. */
type JsonWrite = (
  s: typeof writeJsonString,
  n: typeof writeJsonNumber,
  l: typeof codePoints,
  r: readonly Matcher[],
  f: typeof FORMATS,
  bytes: Uint8Array,
  at: number,
  value: unknown,
) => number;

/** A JSON writer as compiled, or as generated ahead of time (`jsonWriterSource`): its body's code. */
export interface CompiledJsonWriter {
  readonly maxBytes: number;
  /** The patterns its code tests, as `matcher` takes them. */
  readonly patterns: readonly string[];
  /** The body of a `JsonWrite`, whose parameters are S, N, L, R, F, b, p and value. */
  readonly body: string;
}

/**
 * The writer of a compiled or generated JSON writer, its code compiled the first time it writes:
 * the JSON writers are the engine's fallback (a value writer holds on every module stepup builds),
 * so a process that never falls back never compiles them.
 */
export function jsonWriter({ maxBytes, patterns: sources, body }: CompiledJsonWriter): InputWriter {
  let write: JsonWrite | undefined;
  let patterns: readonly Matcher[] = [];
  const writer = (bytes: Uint8Array, at: number, value: unknown) => {
    if (write === undefined) {
      patterns = sources.map(matcher);
      write = new Function("S", "N", "L", "R", "F", "b", "p", "value", body) as JsonWrite;
    }
    return write(writeJsonString, writeJsonNumber, codePoints, patterns, FORMATS, bytes, at, value);
  };
  return Object.assign(writer, { maxBytes });
}

/**
 * A JSON writer as generated ahead of time, as `CompiledJsonWriter`: the writers of JSON do not
 * depend on the instance, so they are generated with the contract's other code
 * (scripts/contract-code.ts) rather than compiled from the contract in every process that loads a
 * bundle; their code is text until it first runs (`jsonWriter`).
 */
export function jsonWriterSource(schema: Schema, options: { checked?: boolean } = {}): CompiledJsonWriter {
  const { body, size, patterns } = compileSchema(schema, jsonTarget, { checked: options.checked ?? false });
  return { maxBytes: size, patterns, body: `${body} return p;` };
}

/** The target writing JSON text at `p` in `b`. */
function jsonTarget(): Target<undefined> {
  const constant = (text: string): string => {
    const bytes = encoder.encode(text);
    return `${[...bytes].map((byte, i) => `b[p${i ? ` + ${i}` : ""}] = ${byte};`).join(" ")} p += ${bytes.length};`;
  };
  return {
    writes: true,
    fillsDefaults: false,
    string: (v, bound) => [`p = S(b, p, ${v});`, 2 + MAX_BYTES_PER_CHAR * bound, ""],
    number: (v) => [`p = N(b, p, ${v});`, MAX_NUMBER_BYTES, ""],
    boolean: (v) => [`if (${v}) { ${constant("true")} } else { ${constant("false")} }`, 5, ""],
    nullable: (v, [inner, size]) => [`if (${v} === null) { ${constant("null")} } else { ${inner} }`, Math.max(4, size), ""],
    array: (node, v, n, i, item, [inner, size]) => {
      const loop = `for (let ${i} = 0; ${i} < ${n}; ${i}++) { if (${i} > 0) { ${constant(",")} } const ${item} = ${v}[${i}]; ${inner} }`;
      return [`${constant("[")} ${loop} ${constant("]")}`, 2 + node.maxItems! * (size + 1), ""];
    },
    objectStart: () => undefined,
    object: (_node, _keys, v, fields) => {
      if (fields.length === 0) return [constant("{}"), 2, ""];
      let size = 1;
      const parts = fields.map(({ key, local, read, inner: [code, fieldSize], fill, present }, n) => {
        const prefix = `${n === 0 ? "{" : ","}${JSON.stringify(key)}:`;
        // An absent field is written as its default, which the contract fills in.
        const field = fill === undefined ? `${present}${code}` : `if (${local} === undefined) { ${constant(fill)} } else { ${code} }`;
        size += encoder.encode(prefix).length + (fill === undefined ? fieldSize : Math.max(fieldSize, encoder.encode(fill).length));
        return `${constant(prefix)} ${read} ${field}`;
      });
      return [`${parts.join(" ")} ${constant("}")}`, size, ""];
    },
  };
}

/** An object's struct, buckets and elements, laid out before its fields are written. */
interface ObjectHeader {
  /** The local holding the object's address. */
  readonly o: string;
  readonly parts: readonly string[];
  /** Bytes of the struct, its buckets and its elements. */
  readonly size: number;
  /** The address of the element of the key at `position`, as an expression. */
  elem(position: number): string;
}

/**
 * The target writing OPA's values at `p` in `b` (and `I`, its words), for the instance `form`
 * describes. `copies` (for a caller's document, checked): it also builds a copy of the document
 * from the values it reads, with the defaults of absent fields filled in — the normalized input —
 * so that nothing after the write reads the caller's objects again.
 */
function valuesTarget(form: ValueForm, copies: boolean, headerOf: HeaderOf = (keys, o) => formHeader(form, keys, o)): (ctx: CompileContext) => Target<ObjectHeader> {
  /** The expression for a value's copy: a scalar is its own. */
  const copyOf = (emitted: Emitted, v: string) => emitted[3] ?? v;
  return ({ fresh }) => ({
    writes: true,
    fillsDefaults: false,
    string: (v, bound) => {
      const a = fresh("a");
      // UTF-8 takes at most 4 bytes per code point; the struct, then the text, 4-aligned.
      return [`const ${a} = p; p = S(b, I, p, ${v}); if (p < 0) return p;`, STRING_T.size + 4 * bound + 3, a];
    },
    number: (v) => {
      const a = fresh("a");
      return [`const ${a} = p; p = N(b, I, p, ${v});`, NUMBER_T.size + MAX_NUMBER_BYTES + 3, a];
    },
    boolean: (v) => ["", 0, `(${v} ? ${form.true} : ${form.false})`],
    nullable: (v, inner) => {
      const [code, size, at] = inner;
      const a = fresh("a");
      const copy = copyOf(inner, v);
      if (!copies || copy === v) return [`let ${a} = ${form.null}; if (${v} !== null) { ${code} ${a} = ${at}; }`, size, a];
      const c = fresh("c");
      return [`let ${a} = ${form.null}, ${c} = null; if (${v} !== null) { ${code} ${a} = ${at}; ${c} = ${copy}; }`, size, a, c];
    },
    array: (node, v, n, i, item, inner) => {
      const [code, size, at] = inner;
      const maxItems = node.maxItems!;
      if (maxItems > form.indexCount) throw new Error(`input contract: a list of up to ${maxItems} items, past the form's indices`);
      // opa_array_t, then its elements { i; v } (each index a constant number), then the items.
      const a = fresh("a");
      const c = copies ? fresh("c") : "";
      const header = [
        `const ${a} = p; p += ${ARRAY_T.size} + ${ARRAY_ELEM_T.size} * ${n};`,
        `b[${a} + ${ARRAY_T.hdr}] = ${TYPE.ARRAY};`,
        store(`${a} + ${ARRAY_T.elems}`, `${n} === 0 ? 0 : ${a} + ${ARRAY_T.size}`),
        store(`${a} + ${ARRAY_T.len}`, n),
        store(`${a} + ${ARRAY_T.cap}`, n),
        copies ? `const ${c} = new Array(${n});` : "",
      ].join(" ");
      const elem = `${a} + ${ARRAY_T.size} + ${ARRAY_ELEM_T.size} * ${i}`;
      const copyItem = copies ? ` ${c}[${i}] = ${copyOf(inner, item)};` : "";
      const loop = `for (let ${i} = 0; ${i} < ${n}; ${i}++) { const ${item} = ${v}[${i}]; ${code} ${store(`${elem} + ${ARRAY_ELEM_T.i}`, `${form.indices} + ${NUMBER_BYTES} * ${i}`)} ${store(`${elem} + ${ARRAY_ELEM_T.v}`, at)}${copyItem} }`;
      const size_ = ARRAY_T.size + maxItems * (ARRAY_ELEM_T.size + size);
      return copies ? [`${header} ${loop}`, size_, a, c] : [`${header} ${loop}`, size_, a];
    },
    objectStart: (_node, keys) => headerOf(keys, fresh("a")),
    object: (_node, _keys, _v, fields, header) => {
      let size = header.size;
      const parts = [...header.parts];
      fields.forEach(({ local, read, inner, fill, present }, position) => {
        const [code, fieldSize, at] = inner;
        size += fieldSize;
        // An absent field takes its default, which the contract fills in, and is written as one.
        const filled = fill === undefined ? "" : ` if (${local} === undefined) ${local} = ${fill};`;
        parts.push(`${read}${filled} ${present}${code} ${store(`${header.elem(position)} + ${OBJECT_ELEM_T.v}`, at)}`);
      });
      if (!copies) return [parts.join(" "), size, header.o];
      // The copy, in the schema's order; `__proto__` would set a literal's prototype instead.
      if (fields.some(({ key }) => key === "__proto__")) throw new Error("input contract: a field named __proto__");
      const c = fresh("c");
      parts.push(`const ${c} = { ${fields.map(({ key, local, inner }) => `${JSON.stringify(key)}: ${copyOf(inner, local)}`).join(", ")} };`);
      return [parts.join(" "), size, header.o, c];
    },
  });
}

/** The header of an object of these keys whose address is in local `o`. */
type HeaderOf = (keys: readonly string[], o: string) => ObjectHeader;

// A 32-bit store at a byte address (every struct field the writer sets is 4-aligned).
const store = (addr: string, value: string | number) => `I[(${addr}) >> 2] = ${value};`;

/**
 * An object as OPA's parser builds it, for the instance `form` describes: opa_object_t, its
 * buckets, one element { k; v; next } per key (in the schema's order, chained as OPA chains them);
 * the values follow.
 */
function formHeader(form: ValueForm, keys: readonly string[], o: string): ObjectHeader {
  const { buckets, chains } = form.layout(keys);
  // The bucket array (a pointer per bucket) follows the struct, then the elements.
  const elems = OBJECT_T.size + POINTER_BYTES * buckets;
  const elem = (position: number) => `${o} + ${elems + OBJECT_ELEM_T.size * position}`;
  const parts = [
    `const ${o} = p; p += ${elems + OBJECT_ELEM_T.size * keys.length};`,
    `b[${o} + ${OBJECT_T.hdr}] = ${TYPE.OBJECT};`,
    store(`${o} + ${OBJECT_T.buckets}`, `${o} + ${OBJECT_T.size}`),
    store(`${o} + ${OBJECT_T.n}`, buckets),
    store(`${o} + ${OBJECT_T.len}`, keys.length),
  ];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const chain = chains[bucket] ?? [];
    parts.push(store(`${o} + ${OBJECT_T.size + POINTER_BYTES * bucket}`, chain.length === 0 ? 0 : elem(chain[0]!)));
    chain.forEach((position, n) => {
      parts.push(store(`${elem(position)} + ${OBJECT_ELEM_T.k}`, form.key(keys[position]!)));
      parts.push(store(`${elem(position)} + ${OBJECT_ELEM_T.next}`, n + 1 < chain.length ? elem(chain[n + 1]!) : 0));
    });
  }
  return { o, parts, size: elems + OBJECT_ELEM_T.size * keys.length, elem };
}

/**
 * A writer of OPA's values compiled for no instance in particular: its code with a mark where
 * each value of the instance goes — the constants' addresses (@N@ null, @T@ true, @F@ false, @I@
 * the list indices), each object's header (@H<n>@) and the offsets of its elements, which follow
 * its buckets (@E<n>:<offset>@) — and what the instance's form fills them with. Generated with the
 * contract's other code (src/wasm/generated/value-writers.ts, by scripts/contract-code.ts): a
 * process that loads a bundle then fills the marks in, where compiling the writer from the
 * contract took milliseconds of every cold start. `valueWriterOf` gives exactly the writer
 * `compileInputWriter` compiles for the same form (test/wasm/input-values.test.ts).
 */
export interface ValueWriterTemplate {
  readonly checked: boolean;
  /** The body, marked. */
  readonly body: string;
  readonly patterns: readonly string[];
  /** The most bytes a document takes with every object's bucket array empty. */
  readonly bytes: number;
  /** Each object, in the order the compiler meets them: its keys, the local holding its address, and how many of it a document holds at most. */
  readonly objects: readonly { readonly keys: readonly string[]; readonly local: string; readonly copies: number }[];
  /** The longest list: how many list indices the form needs. */
  readonly longestList: number;
}

const MARK = /@(?:([NTFI])|H(\d+)|E(\d+):(\d+))@/g;

/** The template of a writer of OPA's values: what `compileInputWriter` compiles with a form, the form's values marked. */
export function valueWriterTemplate(schema: Schema, options: { checked?: boolean } = {}): ValueWriterTemplate {
  const checked = options.checked ?? false;
  const marked = { null: "@N@", true: "@T@", false: "@F@", indices: "@I@" } as unknown as Pick<ValueForm, "null" | "true" | "false" | "indices">;
  const symbolic: ValueForm = {
    ...marked,
    indexCount: Number.POSITIVE_INFINITY,
    key: () => {
      throw new Error("input contract: a key outside an object header");
    },
    layout: () => {
      throw new Error("input contract: a layout outside an object header");
    },
  };
  // The code does not depend on how many buckets an object has, the size does, once per copy of
  // the object: compiled with every bucket array empty, and once more with one object's holding a
  // bucket, the difference is how many of that object a document holds.
  const compile = (bucketed: number) => {
    const objects: { keys: readonly string[]; local: string }[] = [];
    const headerOf: HeaderOf = (keys, o) => {
      const n = objects.push({ keys, local: o }) - 1;
      const elems = OBJECT_T.size + (n === bucketed ? POINTER_BYTES : 0);
      return { o, parts: [`@H${n}@`], size: elems + OBJECT_ELEM_T.size * keys.length, elem: (position) => `${o} + @E${n}:${OBJECT_ELEM_T.size * position}@` };
    };
    return { ...compileSchema(schema, valuesTarget(symbolic, checked, headerOf), { checked }), objects };
  };
  const { body, size, patterns, copy, objects } = compile(-1);
  const unmarked = body.replaceAll(MARK, "");
  if (unmarked.includes("@")) throw new Error("input contract: an @ in the writer's code, which marks the form's values");
  return {
    checked,
    body: `${body} ${copy === undefined ? "" : `D.document = ${copy}; `}return p;`,
    patterns,
    bytes: size,
    objects: objects.map(({ keys, local }, n) => ({ keys, local, copies: (compile(n).size - size) / POINTER_BYTES })),
    longestList: longestList(schema),
  };
}

/** The writer of a template for the instance `form` describes; the same as `compileInputWriter` compiles. */
export function valueWriterOf(template: ValueWriterTemplate, form: ValueForm): InputWriter {
  if (template.longestList > form.indexCount) throw new Error(`input contract: a list of up to ${template.longestList} items, past the form's indices`);
  // Headers in the compiler's order: the form places each key's string as it is first asked for.
  form.prepare?.(template.objects.map(({ keys }) => keys));
  const headers = template.objects.map(({ keys, local }) => formHeader(form, keys, local));
  let bytes = template.bytes;
  template.objects.forEach(({ keys, copies }, n) => (bytes += copies * (headers[n]!.size - OBJECT_T.size - OBJECT_ELEM_T.size * keys.length)));
  const constants = { N: form.null, T: form.true, F: form.false, I: form.indices } as Record<string, number>;
  const body = template.body.replaceAll(MARK, (_, constant: string | undefined, header: string | undefined, object: string | undefined, offset: string | undefined) => {
    if (constant !== undefined) return String(constants[constant]);
    if (header !== undefined) return headers[Number(header)]!.parts.join(" ");
    const elems = headers[Number(object)]!.size - OBJECT_ELEM_T.size * template.objects[Number(object)]!.keys.length;
    return String(elems + Number(offset));
  });
  return valueWriter(body, bytes, template.patterns, template.checked);
}

/**
 * Compiles a writer. Unchecked (the default), for documents that already meet the schema (every
 * field present); `checked`, for documents straight from a caller. With `values`, it writes OPA's
 * values for the instance the form describes (the document's root lies at `at`, 8-aligned),
 * otherwise JSON text.
 */
export function compileInputWriter(schema: Schema, options: { checked?: boolean; values?: ValueForm } = {}): InputWriter {
  const checked = options.checked ?? false;
  const form = options.values;
  if (!form) {
    const { body, size: maxBytes, patterns } = compileSchema(schema, jsonTarget, { checked });
    return jsonWriter({ maxBytes, patterns, body: `${body} return p;` });
  }
  const { body, size, patterns, copy } = compileSchema(schema, valuesTarget(form, checked), { checked });
  return valueWriter(`${body} ${copy === undefined ? "" : `D.document = ${copy}; `}return p;`, size, patterns, checked);
}

/** A writer of OPA's values from its code. */
function valueWriter(body: string, size: number, sources: readonly string[], checked: boolean): InputWriter {
  const patterns = sources.map(matcher);
  const compiled = new Function("S", "N", "L", "R", "F", "b", "I", "D", "p", "value", body) as (
    s: typeof writeStringValue,
    n: typeof writeNumberValue,
    l: typeof codePoints,
    r: readonly Matcher[],
    f: typeof FORMATS,
    bytes: Uint8Array,
    ints: Int32Array,
    read: { document: unknown },
    at: number,
    value: unknown,
  ) => number;
  // One Int32Array per memory buffer (a grown memory detaches the old one).
  let ints: Int32Array<ArrayBufferLike> = new Int32Array(0);
  const read = { document: undefined as unknown };
  const writer = (bytes: Uint8Array, at: number, value: unknown) => {
    if (ints.buffer !== bytes.buffer) ints = new Int32Array(bytes.buffer);
    return compiled(writeStringValue, writeNumberValue, codePoints, patterns, FORMATS, bytes, ints, read, at, value);
  };
  if (!checked) return Object.assign(writer, { maxBytes: size });
  return Object.assign(writer, { maxBytes: size, document: () => read.document });
}

// The layout as module constants, for the two functions every written value goes through.
const [STRING_SIZE, STRING_HDR, STRING_FREE, STRING_LEN, STRING_V] = [STRING_T.size, STRING_T.hdr, STRING_T.free, STRING_T.len, STRING_T.v];
const [NUMBER_SIZE, NUMBER_HDR, NUMBER_REPR_AT, NUMBER_V] = [NUMBER_T.size, NUMBER_T.hdr, NUMBER_T.repr, NUMBER_T.v];
const [REF_S, REF_LEN, REF_FREE] = [NUMBER_T.v + NUMBER_REF_T.s, NUMBER_T.v + NUMBER_REF_T.len, NUMBER_T.v + NUMBER_REF_T.free];
const [OPA_STRING, OPA_NUMBER, REPR_INT, REPR_REF] = [TYPE.STRING, TYPE.NUMBER, NUMBER_REPR.INT, NUMBER_REPR.REF];

/**
 * Writes an opa_string_t at `at` with its UTF-8 text after it, and returns the next 4-aligned
 * offset; TOO_LONG for a string that is not well-formed UTF-16 (a lone surrogate), which UTF-8
 * cannot carry as JSON's escape does: that document goes as text.
 */
function writeStringValue(bytes: Uint8Array, ints: Int32Array<ArrayBufferLike>, at: number, text: string): number {
  const start = at + STRING_SIZE;
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
  bytes[at + STRING_HDR] = OPA_STRING;
  bytes[at + STRING_FREE] = 0;
  ints[(at + STRING_LEN) >> 2] = length;
  ints[(at + STRING_V) >> 2] = start;
  return (start + length + 3) & ~3;
}

/**
 * Writes an opa_number_t at `at` and returns the next 4-aligned offset: a 32-bit integer as OPA's
 * integer (OPA_NUMBER_REPR_INT, as the bundle's module keeps such integers its parser reads, and
 * only those: see rewrite/parsed-integers.ts for why no larger), anything else as OPA's parser
 * keeps a number from JSON (its text, which follows the struct: a ref). Both are the same number
 * to OPA and written out as the same text.
 */
function writeNumberValue(bytes: Uint8Array, ints: Int32Array<ArrayBufferLike>, at: number, value: number): number {
  if ((value | 0) === value) {
    bytes[at + NUMBER_HDR] = OPA_NUMBER;
    bytes[at + NUMBER_REPR_AT] = REPR_INT;
    // A 64-bit integer, low word first: the value, then its sign.
    ints[(at + NUMBER_V) >> 2] = value;
    ints[(at + NUMBER_V + 4) >> 2] = value < 0 ? -1 : 0;
    return at + NUMBER_SIZE;
  }
  const start = at + NUMBER_SIZE;
  const text = "" + value;
  for (let i = 0; i < text.length; i++) bytes[start + i] = text.charCodeAt(i);
  bytes[at + NUMBER_HDR] = OPA_NUMBER;
  bytes[at + NUMBER_REPR_AT] = REPR_REF;
  ints[(at + REF_S) >> 2] = start;
  ints[(at + REF_LEN) >> 2] = text.length;
  bytes[at + REF_FREE] = 0;
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

