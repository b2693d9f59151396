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
 * writer with `JSON.stringify`'s rules.
 *
 * The mask's rules are known when the writer is compiled. Most rule sets (removals and rewrites at
 * an object's key, none on or under another: the documented ones) are applied as the event is
 * written, from the event as the decision made it: a removed key is left out, a rewritten one is
 * written as the rule rewrites it, and `erased` and `masked` list what applied, in the rules'
 * order — the bytes `JSON.stringify` writes for the event the masker returns, without the masker's
 * copies. Other rule sets (an upsert, a rule on a whole root) mask a copy first, as the masker
 * does, and the writer writes that: a removed field is optional there, a rewritten one generic.
 */
import { DECISION_ENTRYPOINT } from "../bundle/build.js";
import type { ParsedMaskRule } from "../contracts/decision-log.js";
import { jsonSchemas } from "../contracts/json-schema.js";
import type { Schema } from "../input/compile.js";
import { writeJsonNumber as writeNumber, writeJsonString } from "../input/json-text.js";
import { inputJsonSchema } from "../input/validate.js";
import { maskPlan, type InlineRule, type Maskable, type Masker, type MaskPlan, type Transform } from "./mask.js";

/** The value does not suit the compiled code: write the event with `JSON.stringify`. */
export const FALLBACK = -2;
/** The buffer is too small for the event. */
export const FULL = -1;
/** Bytes kept free past the point where a field may start: a key and a number fit in it. */
const MARGIN = 1024;
/** A string or generic value leaves this much room for the closing brackets after it. */
const TAIL = 64;
/** An object whose code is this long (characters) or longer is written by a function of its own. */
const OWN_FUNCTION = 4000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Write = (bytes: Uint8Array, at: number, value: unknown, end: number) => number;
type Helpers = readonly [typeof writeString, typeof writeNumber, typeof writeValue];

/** The rules applied inline below a node, by key: the rule ending at the key, and those further down. */
type MaskTrie = Map<string, { rule?: InlineRule; below?: MaskTrie }>;

/** A rule set the schema does not let the writer apply inline (a rule reaches into a list, say). */
class NotInline extends Error {}

/** A schema node as the event writer reads it; `same` marks a value that is one object every time (the logger's labels). */
type Node = Schema & {
  readonly same?: { readonly value: unknown; readonly bytes: Uint8Array };
  /** Objects below come with their keys in any order (the policy's: OPA's objects are hash tables). */
  readonly anyOrder?: boolean;
  readonly oneOf?: readonly Schema[];
  /** The event's `erased` (removals) or `masked` (rewrites) list, written from the rules applied inline. */
  readonly applied?: "remove" | "rewrite";
};

export class EventWriter {
  private bytes_ = Buffer.allocUnsafe(16 * 1024);
  private write_: Write | undefined;
  private inline_ = false;
  private readonly plan: MaskPlan;

  /**
   * @param labels the object every event carries as its `labels` (written as fixed bytes).
   * @param bundleName the name the bundle is logged under in `bundles`.
   * @param mask the logger's masker (`compileMask`): its rules are compiled into the writer.
   * @param maxBytes the largest event written into the buffer; past it, `write` falls back.
   */
  constructor(
    private readonly labels: object,
    private readonly bundleName: string,
    private readonly mask: Masker,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {
    this.plan = maskPlan(mask);
  }

  /** The buffer the last event was written into (valid until the next `write`). */
  get bytes(): Buffer {
    return this.bytes_;
  }

  /** Whether the mask is applied as the event is written (else to the event first, by the masker). */
  get masksInline(): boolean {
    this.compile();
    return this.inline_;
  }

  /**
   * Writes the event, as the mask leaves it, at the buffer's start and returns its length; or
   * returns `FALLBACK`, the event then masked in place for `JSON.stringify`. Give it events as
   * `toLogEvent` makes them, not masked yet.
   */
  write(event: Maskable): number {
    this.begin(event);
    return this.writeOwn(event);
  }

  /** Starts on an event: masks it first when the mask is not applied as it is written. */
  begin(event: Maskable): void {
    this.compile();
    if (!this.inline_) this.mask(event);
  }

  /**
   * Writes an event `begin` was given into `bytes` from `at`, not past `end`: returns where it
   * ends, `FULL` when it did not fit (nothing else happened: write it elsewhere), or `FALLBACK`,
   * the event then masked in place for `JSON.stringify`.
   */
  readonly writeAt = (bytes: Uint8Array, at: number, end: number, event: Maskable): number => {
    if (end - at < 2 * MARGIN) return FULL;
    const n = this.write_!(bytes, at, event, end - MARGIN);
    if (n === FALLBACK && this.inline_) this.mask(event);
    return n;
  };

  /** Writes an event `begin` was given at the start of the writer's own buffer, grown as needed: as `write`. */
  writeOwn(event: Maskable): number {
    for (;;) {
      const bytes = this.bytes_;
      const n = this.writeAt(bytes, 0, bytes.length, event);
      if (n !== FULL) return n;
      if (bytes.length >= this.maxBytes) {
        if (this.inline_) this.mask(event);
        return FALLBACK;
      }
      this.bytes_ = Buffer.allocUnsafe(Math.min(bytes.length * 4, this.maxBytes));
    }
  }

  /** Compiled on the first event, so that loading the SDK does not pay for it. */
  private compile(): Write {
    if (this.write_) return this.write_;
    if (this.plan.inline) {
      try {
        this.write_ = compileEventWriter(this.labels, this.bundleName, this.plan.rules, this.plan.inline);
        this.inline_ = true;
        return this.write_;
      } catch (err) {
        if (!(err instanceof NotInline)) throw err;
      }
    }
    return (this.write_ = compileEventWriter(this.labels, this.bundleName, this.plan.rules));
  }
}

/**
 * The writer of OPA's event layout, in `toLogEvent`'s field order: with `inline`, of the event the
 * mask has not touched yet, applying its rules; without, of the event the masker returned.
 */
function compileEventWriter(labels: object, bundleName: string, mask: readonly ParsedMaskRule[], inline?: readonly InlineRule[]): Write {
  const string: Node = { type: "string" };
  const strings: Node = { type: "array", items: string };
  const roots = (root: "input" | "result", schema: Schema) => (inline ? schema : masked(schema, mask, root));
  const event: Node = {
    type: "object",
    properties: {
      labels: { same: { value: labels, bytes: encoder.encode(JSON.stringify(labels)) } } as Node,
      decision_id: string,
      trace_id: string,
      span_id: string,
      bundles: { type: "object", properties: { [bundleName]: { type: "object", properties: { revision: string } } } },
      // Always the decision's entrypoint (`toLogEvent`): its bytes as a constant.
      path: { type: "string", enum: [DECISION_ENTRYPOINT] },
      input: roots("input", inputJsonSchema("output")),
      result: { ...roots("result", jsonSchemas().verdict as Schema), anyOrder: true } as Node,
      erased: inline ? ({ applied: "remove" } as Node) : strings,
      masked: inline ? ({ applied: "rewrite" } as Node) : strings,
      error: { type: "object", properties: { code: string, message: string } },
      timestamp: string,
      metrics: { type: "object", properties: { timer_stepup_decide_ns: { type: "number" } } },
      req_id: { type: "number" },
      custom: {},
    },
    required: [],
  };
  return compileWriter(event, inline);
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

/**
 * Compiles a writer of values meeting `schema`, as `JSON.stringify` writes them; with `inline`, of
 * an event (`compileEventWriter`'s layout) applying those mask rules as it writes. Throws
 * `NotInline` when a rule falls where the schema leaves the writer no key to apply it at.
 */
export function compileWriter(schema: Schema, inline?: readonly InlineRule[]): Write {
  let next = 0;
  const fresh = (prefix: string) => `${prefix}${next++}`;
  const constants: string[] = [];
  const constant = (value: unknown) => {
    const name = fresh("C");
    constants.push(`const ${name} = ${JSON.stringify(value)};`);
    return name;
  };
  // Constant text eight bytes a store where the eight make a double that prints back to the same
  // bits (ASCII always does: no NaN, infinity or subnormal among them), then four, then one (a
  // DataView over the buffer).
  const bytesOf = (text: string) => {
    const bytes = encoder.encode(text);
    const stores: string[] = [];
    let i = 0;
    for (; i + 8 <= bytes.length; i += 8) {
      const double = eightBytes(bytes.subarray(i, i + 8));
      if (double === undefined) break;
      stores.push(`d.setFloat64(p${i ? ` + ${i}` : ""}, ${double}, true);`);
    }
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
  const generic = (v: string) => `p = G(b, p, ${v}, t); if (p < 0) return p;`;
  const sameObjects: unknown[] = [];
  const rules = inline ?? [];
  /** Rules that apply below a node the writer cannot apply them in: mask a copy instead. */
  const none = (trie: MaskTrie | undefined) => {
    if (trie && trie.size > 0) throw new NotInline();
  };

  const compile = (node: Node, v: string, anyOrder = false, trie?: MaskTrie): string => {
    anyOrder ||= node.anyOrder === true;
    if (node.oneOf) return compile(union(node.oneOf), v, anyOrder, trie);
    if (node.same) {
      none(trie);
      const value = `O[${sameObjects.push(node.same.value) - 1}]`;
      const bytes = `O[${sameObjects.push(node.same.bytes) - 1}]`;
      const length = node.same.bytes.length;
      // Short text as constant stores; longer by one copy.
      const copy = length <= 256 ? bytesOf(decoder.decode(node.same.bytes)) : `b.set(${bytes}, p); p += ${length};`;
      return `if (${v} === ${value}) { if (p + ${length} > t) return ${FULL}; ${copy} } else { ${generic(v)} }`;
    }
    const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
    if (types.length > 1 || node.anyOf) {
      const branches = node.anyOf ?? types.map((type) => ({ ...node, type }));
      const nonNull = branches.filter((branch) => branch.type !== "null");
      if (nonNull.length !== 1) {
        none(trie);
        return generic(v);
      }
      const inner = compile(nonNull[0]!, v, anyOrder, trie);
      return nonNull.length < branches.length ? `if (${v} === null) { ${NULL} } else { ${inner} }` : inner;
    }
    // Below a string, number, boolean or null, a rule never applies: it has no keys.
    switch (node.type) {
      case "string": {
        const write = `if (typeof ${v} !== "string") return ${FALLBACK}; p = S(b, p, ${v}, t); if (p < 0) return p;`;
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
        none(trie);
        if (!node.items) return generic(v);
        const [i, item] = [fresh("i"), fresh("v")];
        const inner = compile(node.items, item, anyOrder);
        return `if (!Array.isArray(${v}) || ${v}.toJSON !== undefined) return ${FALLBACK}; b[p++] = 91; for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { if (p > e) return ${FULL}; if (${i} > 0) b[p++] = 44; const ${item} = ${v}[${i}]; ${inner} } b[p++] = 93;`;
      }
      case "object": {
        if (node.properties) return anyOrder ? keyed(node, v, trie) : object(node, v, trie);
        none(trie);
        if (typeof node.additionalProperties === "object") {
          const [k, item, c] = [fresh("k"), fresh("v"), fresh("c")];
          const inner = compile(node.additionalProperties, item, anyOrder);
          return `${plainObject(v)} b[p++] = 123; let ${c} = false; for (const ${k} in ${v}) { const ${item} = ${v}[${k}]; if (${item} === undefined) continue; if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; p = S(b, p, ${k}, t); if (p < 0) return p; b[p++] = 58; ${inner} } b[p++] = 125;`;
        }
        return generic(v);
      }
      default:
        none(trie);
        return generic(v);
    }
  };

  /**
   * A large object's code as a function of its own, called where the object is written: one
   * function for the whole event comes near what V8 optimizes at all (its bytecode limit), and
   * would run several times slower past it, as a larger contract or mask could take it. Small
   * objects stay inline, where a call would cost more than their code.
   */
  const functions: string[] = [];
  const own = (v: string, code: string) => {
    if (code.length < OWN_FUNCTION) return code;
    const name = fresh("f");
    functions.push(`function ${name}(b, p, ${v}, e, t) { ${code} return p; }`);
    return `p = ${name}(b, p, ${v}, e, t); if (p < 0) return p;`;
  };

  /** The code that writes `"key":` and the value, after a comma unless it comes first. */
  const field = (keyText: string, c: string, value: string) =>
    `if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; ${bytesOf(`${keyText}:`)} ${value}`;

  /**
   * A key a rule masks, present on the object: a removal leaves it out, a rewrite writes the
   * rule's value (or, when the rule leaves it as it is, the value by `write`); either way the rule
   * is marked applied (`m`), as the masker lists it.
   */
  const masking = (rule: InlineRule, keyText: string, c: string, x: string, write: string) => {
    const bit = `m |= ${1 << rule.index};`;
    if (rule.op === "remove") return bit;
    const out = fresh("o");
    return `const ${out} = T[${rule.index}](${x}); if (${out} !== undefined) { ${bit} ${field(keyText, c, `p = G(b, p, ${out}.value, t); if (p < 0) return p;`)} } else if (${x} !== undefined) { ${write} }`;
  };

  /**
   * An object of known fields: when its keys come in the schema's order (absent ones skipped), as
   * the SDK's documents have them, straight-line code writes them in that order; otherwise (keys
   * in another order, one the schema does not have) the generic writer takes the object, or, when
   * mask rules apply below it, the masker and `JSON.stringify`. A key counts as there when it is
   * an own enumerable one (the keys `JSON.stringify` writes), marked in the bits of `s` as the
   * order is checked.
   */
  const object = (node: Node, v: string, trie: MaskTrie | undefined): string => {
    const keys = Object.keys(node.properties!);
    const [K, j, k, c, s] = [constant(keys), fresh("j"), fresh("k"), fresh("c"), fresh("s")];
    const bits = keys.length <= 31;
    const ordered = bits
      ? `let ${j} = 0, ${s} = 0; for (const ${k} in ${v}) { while (${j} < ${keys.length} && ${k} !== ${K}[${j}]) ${j}++; if (${j} === ${keys.length}) { ${j}++; break; } ${s} |= 1 << ${j}++; }`
      : `let ${j} = 0; for (const ${k} in ${v}) { while (${j} < ${keys.length} && ${k} !== ${K}[${j}]) ${j}++; if (${j}++ === ${keys.length}) break; }`;
    const fields = keys.map((key, index) => {
      const [x, keyText] = [fresh("v"), JSON.stringify(key)];
      if (keyText.length > 256) throw new Error(`event writer: key ${keyText.slice(0, 40)}… is too long`);
      const there = bits ? `(${s} & ${1 << index}) !== 0` : `PE.call(${v}, ${keyText})`;
      const sub = node.properties![key] as Node;
      if (sub.applied) return applied(sub.applied, keyText, c, v, there);
      const masked = trie?.get(key);
      const write = field(keyText, c, compile(sub, x, false, masked?.below));
      if (masked?.rule) return `if (${there}) { const ${x} = ${v}[${keyText}]; ${masking(masked.rule, keyText, c, x, write)} }`;
      return `if (${there}) { const ${x} = ${v}[${keyText}]; if (${x} !== undefined) { ${write} } }`;
    });
    const otherwise = trie && trie.size > 0 ? `return ${FALLBACK};` : generic(v);
    return own(
      v,
      `${plainObject(v)} ${ordered} if (${j} > ${keys.length}) { ${otherwise} } else { ` +
        `let ${c} = false; b[p++] = 123; ${fields.join(" ")} b[p++] = 125; }`,
    );
  };

  /**
   * An object of known fields whose keys come in any order: each key as it comes, by its
   * compiled code, any other by the generic writer; a key a rule masks, as the rule says.
   */
  const keyed = (node: Node, v: string, trie: MaskTrie | undefined): string => {
    const [k, x, c] = [fresh("k"), fresh("v"), fresh("c")];
    const known = node.properties!;
    const cases = Object.keys(known).map((key) => {
      const keyText = JSON.stringify(key);
      if (keyText.length > 256) throw new Error(`event writer: key ${keyText.slice(0, 40)}… is too long`);
      const masked = trie?.get(key);
      return `case ${keyText}: { ${bytesOf(`${keyText}:`)} ${compile(known[key]!, x, true, masked?.rule ? undefined : masked?.below)} break; }`;
    });
    // Keys a rule masks, before the value is looked at: a key there with no value is masked too.
    const masks = [...(trie ?? [])].map(([key, { rule, below }]) => {
      if (!rule) {
        if (!Object.hasOwn(known, key)) none(below);
        return "";
      }
      const keyText = JSON.stringify(key);
      const write = field(keyText, c, Object.hasOwn(known, key) ? compile(known[key]!, x, true) : generic(x));
      return `if (${k} === ${keyText}) { const ${x} = ${v}[${k}]; ${masking(rule, keyText, c, x, write)} continue; }`;
    });
    const other = `default: { p = S(b, p, ${k}, t); if (p < 0) return p; b[p++] = 58; ${generic(x)} }`;
    return own(
      v,
      `${plainObject(v)} b[p++] = 123; let ${c} = false; ` +
        `for (const ${k} in ${v}) { ${masks.join(" ")} const ${x} = ${v}[${k}]; if (${x} === undefined) continue; if (p > e) return ${FULL}; if (${c}) b[p++] = 44; ${c} = true; ` +
        `switch (${k}) { ${cases.join(" ")} ${other} } } b[p++] = 125;`,
    );
  };

  /**
   * The event's `erased` or `masked`: the paths of the rules of that kind that applied, in the
   * rules' order, as the masker lists them. An event that has the list already (masked before), or
   * lacks the key the masker would add the list at the end as, goes to the masker instead.
   */
  const applied = (op: "remove" | "rewrite", keyText: string, c: string, v: string, there: string) => {
    const ofKind = rules.filter((rule) => rule.op === op);
    const mask = ofKind.reduce((bits, rule) => bits | (1 << rule.index), 0);
    const f = fresh("f");
    const paths = ofKind.map((rule) => `if ((m & ${1 << rule.index}) !== 0) { if (${f}) b[p++] = 44; ${f} = true; ${bytesOf(JSON.stringify(rule.path))} }`);
    const most = ofKind.reduce((n, rule) => n + encoder.encode(JSON.stringify(rule.path)).length + 1, keyText.length + 4);
    const list = `if (p + ${most} > t) return ${FULL}; ${field(keyText, c, `b[p++] = 91; let ${f} = false; ${paths.join(" ")} b[p++] = 93;`)}`;
    const masked = `if (!(${there})) return ${FALLBACK}; ${list}`;
    return `if (${there} && ${v}[${keyText}] !== undefined) return ${FALLBACK}; ${mask === 0 ? "" : `if ((m & ${mask}) !== 0) { ${masked} }`}`;
  };

  const body = compile(schema as Node, "value", false, trieOf(rules));
  const prelude = `if (OP.toJSON !== undefined || Array.prototype.toJSON !== undefined) return ${FALLBACK}; for (const k in OP) return ${FALLBACK};`;
  const make = new Function(
    "S",
    "N",
    "G",
    "O",
    "OP",
    "PE",
    "T",
    // `m`: the mask rules applied to the event being written, a bit each.
    `${constants.join(" ")} let db = null; let d = null; let m = 0; ${functions.join(" ")} ` +
      `return function write(b, p, value, e) { if (b !== db) { db = b; d = new DataView(b.buffer, b.byteOffset, b.byteLength); } const t = e + ${MARGIN - TAIL}; m = 0; ${prelude} ${body} return p; };`,
  );
  const helpers: Helpers = [writeString, writeNumber, writeValue];
  const transforms: (Transform | undefined)[] = rules.map((rule) => (rule.op === "rewrite" ? rule.transform : undefined));
  return make(...helpers, sameObjects, Object.prototype, Object.prototype.propertyIsEnumerable, transforms) as Write;
}

/** Eight bytes as the text of a double whose little-endian bits they are, if it gives them back exactly. */
function eightBytes(bytes: Uint8Array): string | undefined {
  const view = new DataView(new ArrayBuffer(8));
  bytes.forEach((byte, k) => view.setUint8(k, byte));
  const text = String(view.getFloat64(0, true));
  view.setFloat64(0, Number(text), true);
  for (let k = 0; k < 8; k++) if (view.getUint8(k) !== bytes[k]) return undefined;
  return text;
}

/** The rules by path, from the event down: `input` and `result`, then their keys. */
function trieOf(rules: readonly InlineRule[]): MaskTrie | undefined {
  if (rules.length === 0) return undefined;
  const top: MaskTrie = new Map();
  for (const rule of rules) {
    let level = top;
    const keys = [rule.root, ...rule.keys];
    keys.forEach((key, i) => {
      let entry = level.get(key);
      if (!entry) level.set(key, (entry = {}));
      if (i === keys.length - 1) entry.rule = rule;
      else level = entry.below ??= new Map();
    });
  }
  return top;
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

/** A string as JSON text, when it has room before `limit` (where the closing brackets' room starts). */
function writeString(bytes: Uint8Array, at: number, text: string, limit: number): number {
  return at + 6 * text.length + 2 > limit ? FULL : writeJsonString(bytes, at, text);
}

/** Any value, by `JSON.stringify`'s rules for plain data; `FALLBACK` for anything else (`toJSON`, a class, a bigint). */
function writeValue(bytes: Uint8Array, at: number, value: unknown, limit: number): number {
  let p = at;
  if (p > limit - 8) return FULL;
  switch (typeof value) {
    case "string":
      return writeString(bytes, p, value, limit);
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
          p = item === undefined || typeof item === "function" || typeof item === "symbol" ? ascii(bytes, p, "null") : writeValue(bytes, p, item, limit);
          if (p < 0) return p;
          if (p > limit - 8) return FULL;
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
        p = writeString(bytes, p, key, limit);
        if (p < 0) return p;
        bytes[p++] = 58;
        p = writeValue(bytes, p, item, limit);
        if (p < 0) return p;
        if (p > limit - 8) return FULL;
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
