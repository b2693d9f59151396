/**
 * The input contract compiled: one compiler from the contract's JSON Schema (zod generates it;
 * zod stays the contract's one source) into straight-line JavaScript — the checker and
 * normalizer `parseInput` runs (one pass: a caller's document checked and its defaults filled in),
 * and the writers of the input into the policy's memory, checked or not. The compiler walks the
 * schema once and owns everything the contract says: each value's checks (types, bounds, patterns,
 * formats, enums), which fields must be there and which take their defaults, which keys are
 * allowed. A target says only what the compiled code does with each value: build the normalized
 * document (below), or write it as JSON text or as OPA's values (src/wasm/input-writer.ts). A
 * property test holds the checks to zod's answers and the documents to zod's output
 * (test/contracts/compiled.test.ts).
 *
 * Straight-line code, as ajv's: a tree of closures costs a call per field that V8 cannot inline.
 */
import { FORMATS } from "../contracts/compiled.js";
import { IP_PATTERN, isIpText } from "../contracts/ip-text.js";

/** The JSON Schema that zod generates for the contract, as far as the compiler reads it. */
export type Schema = {
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

/** What compiled code answers besides its result: -1 a writer's value is longer than it was compiled for; -2 the document breaks the contract. */
export const TOO_LONG = -1;
export const INVALID = -2;

/**
 * Code for one value: statements, the most bytes they write, an expression for its result (a
 * target's), and — for a target that copies what it reads — an expression for the copy (absent:
 * the value's own local, as for every scalar).
 */
export type Emitted = readonly [code: string, size: number, at: string, copy?: string];

/** An object's field, compiled, for the target to put together. */
export interface Field {
  readonly key: string;
  /** The local holding the field's value. */
  readonly local: string;
  /**
   * The statement declaring `local` (with `let`) and reading the field into it; empty in checked
   * code, where the object's one pass over its own keys has read every field already.
   */
  readonly read: string;
  readonly inner: Emitted;
  /** The JSON of the field's default, when an absent field takes it (the target fills it in). */
  readonly fill?: string;
  /** Statements failing the document when the field is absent and must be there (empty when not checked). */
  readonly present: string;
}

/** What the compiled code does with each value; the compiler does the rest. */
export interface Target<State = unknown> {
  /** Whether the code writes into a buffer reserved for the largest document: strings the schema leaves unbounded are then bounded. */
  readonly writes: boolean;
  /** Whether an absent field takes its default even in documents not checked (the normalizer). */
  readonly fillsDefaults: boolean;
  string(v: string, bound: number): Emitted;
  number(v: string): Emitted;
  boolean(v: string): Emitted;
  /** A value or null; `inner` for the value. */
  nullable(v: string, inner: Emitted): Emitted;
  /** A list of `n` items (a local holding its length, read once): `inner` for the item in local `item`, at index `i`. */
  array(node: Schema, v: string, n: string, i: string, item: string, inner: Emitted): Emitted;
  /** Before an object's fields are compiled. */
  objectStart(node: Schema, keys: readonly string[]): State;
  object(node: Schema, keys: readonly string[], v: string, fields: readonly Field[], state: State): Emitted;
}

/** What targets use while the compiler runs: fresh local names. */
export interface CompileContext {
  fresh(prefix?: string): string;
}

/** A compiled body, before a target wraps it in a function. */
export interface Compiled {
  /** Statements over `value`, the document; `return -2` when it breaks the contract. */
  readonly body: string;
  readonly size: number;
  readonly at: string;
  /** The expression for the copy of the document, when the target makes one. */
  readonly copy?: string;
  /** The patterns the code tests (`R[i]`, each made a `Matcher` by `matcher`). */
  readonly patterns: readonly string[];
}

/** What compiled code tests a string with: `R[i].test(text)`. */
export interface Matcher {
  test(text: string): boolean;
}

/**
 * The matcher of a pattern: its regular expression, except for the contract's address pattern,
 * which `isIpText` decides without one (V8 compiles a pattern on first use, and that one took
 * milliseconds of a cold start's first decision).
 */
export function matcher(pattern: string): Matcher {
  return pattern === IP_PATTERN ? { test: isIpText } : new RegExp(pattern);
}

// A character (a code point, as the contract counts them) takes at most 6 bytes in JSON text
// (\u001f, or a lone surrogate escaped); a string without maxLength is assumed to need 64 (formats
// and patterns bound those in effect).
const UNBOUNDED_STRING = 64;

/**
 * Compiles the schema for a target. `checked`: the code checks the document (a caller's) as it
 * goes and returns INVALID at the first value that breaks the contract; otherwise the document
 * already meets it (every field present, unless the target fills defaults).
 *
 * Checked code reads a caller's document as data, once: each list's length once and each item
 * once; each object's own enumerable fields once, in one pass over its keys (inherited and
 * non-enumerable properties are not part of a document: such a field is absent), so that a getter
 * or a Proxy cannot answer one thing to the check and another to what follows. A key outside the
 * contract fails the document in the same pass.
 */
export function compileSchema<State>(schema: Schema, makeTarget: (ctx: CompileContext) => Target<State>, options: { checked?: boolean } = {}): Compiled {
  const checked = options.checked ?? false;
  let next = 0;
  const ctx: CompileContext = { fresh: (prefix = "v") => `${prefix}${next++}` };
  const { fresh } = ctx;
  const target = makeTarget(ctx);
  const patterns: string[] = [];
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
        if (node.pattern !== undefined) parts.push(`R[${patterns.push(node.pattern) - 1}].test(${v})`);
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

  /** Checked, a field without a default must be there; unchecked, the document has every field. */
  const requirePresent = (node: Schema, key: string, local: string): string => {
    if (checked && node.required?.includes(key)) return `if (${local} === undefined) ${fail} `;
    if (checked || !node.required?.includes(key)) throw new Error(`input contract: ${key} may be absent without a default`);
    return "";
  };

  /** The code for `v` (a local): checks first when checked, then the target's. */
  const compile = (node: Schema, v: string): Emitted => {
    if (Array.isArray(node.type)) {
      // ["boolean", "null"] and the like: a nullable value of one type.
      const types = node.type.filter((type) => type !== "null");
      if (types.length !== 1 || types.length === node.type.length) throw new Error(`input contract: type ${node.type.join(", ")}`);
      return compile({ anyOf: [{ ...node, type: types[0] }, { type: "null" }] }, v);
    }
    if (node.anyOf) {
      const nonNull = node.anyOf.filter((branch) => branch.type !== "null");
      const nullable = nonNull.length < node.anyOf.length;
      let inner: Emitted;
      if (nonNull.length === 1) inner = compile(nonNull[0]!, v);
      else if (nonNull.every((branch) => branch.type === "string")) {
        // A union of string formats: checked against each, taken as a string.
        const [code, size, at] = compile({ type: "string", maxLength: Math.max(...nonNull.map(stringBound)) }, v);
        inner = [checked ? `if (!${test({ anyOf: nonNull }, v)}) ${fail} ${code}` : code, size, at];
      } else throw new Error(`input contract: a union of ${nonNull.map((branch) => branch.type).join(", ")}`);
      return nullable ? target.nullable(v, inner) : inner;
    }
    /** The check of a scalar, when checked. */
    const scalarCheck = () => (checked ? `if (!${test(node, v)}) ${fail} ` : "");
    switch (node.type) {
      case "string": {
        const bound = stringBound(node);
        const check = scalarCheck();
        // A string the schema does not bound (a pattern such as ^[A-Z]{2}$ bounds it only in
        // effect) is written only up to an assumed length; a longer one abandons the write.
        const guard = target.writes && node.maxLength === undefined && !node.enum ? `if (${v}.length > ${bound}) return ${TOO_LONG}; ` : "";
        const [code, size, at] = target.string(v, bound);
        return [`${check}${guard}${code}`, size, at];
      }
      case "number":
      case "integer":
      case "boolean": {
        const check = scalarCheck();
        const [code, size, at] = node.type === "boolean" ? target.boolean(v) : target.number(v);
        return [`${check}${code}`, size, at];
      }
      case "array": {
        if (!node.items || node.maxItems === undefined) throw new Error("input contract: a list without a bound");
        const n = fresh("n");
        const i = fresh("i");
        const item = fresh();
        const inner = compile(node.items, item);
        const length = `const ${n} = ${v}.length; `;
        const arrayCheck = checked
          ? `if (!Array.isArray(${v})) ${fail} ${length}if (${n} > ${node.maxItems}${node.minItems ? ` || ${n} < ${node.minItems}` : ""}) ${fail} `
          : length;
        const [code, ...rest] = target.array(node, v, n, i, item, inner);
        return [`${arrayCheck}${code}`, ...rest];
      }
      case "object": {
        if (!node.properties) throw new Error("input contract: an object without properties");
        const keys = Object.keys(node.properties);
        const locals = keys.map(() => fresh());
        let objectCheck = "";
        if (checked) {
          // One pass over the object's own enumerable keys reads every field (the hasOwnProperty
          // call in a for-in over the same object is one V8 compiles to a map check).
          const k = fresh("k");
          const other = node.additionalProperties === false ? `else ${fail}` : "";
          const reads = keys.map((key, n) => `if (${k} === ${JSON.stringify(key)}) ${locals[n]} = ${v}[${k}];`).join(" else ");
          objectCheck =
            `if (${v} === null || typeof ${v} !== "object" || Array.isArray(${v})) ${fail} ` +
            `let ${locals.join(", ")}; ` +
            `for (const ${k} in ${v}) { if (!Object.prototype.hasOwnProperty.call(${v}, ${k})) continue; ${reads} ${other} } `;
        }
        const state = target.objectStart(node, keys);
        const fields = keys.map((key, n): Field => {
          const sub = node.properties![key]!;
          const local = locals[n]!;
          const inner = compile(sub, local);
          // An absent field is its default, which the contract fills in.
          const fill = (checked || target.fillsDefaults) && "default" in sub ? JSON.stringify(sub.default) : undefined;
          const read = checked ? "" : `let ${local} = ${v}[${JSON.stringify(key)}];`;
          return { key, local, read, inner, fill, present: fill === undefined ? requirePresent(node, key, local) : "" };
        });
        const [code, ...rest] = target.object(node, keys, v, fields, state);
        return [`${objectCheck}${code}`, ...rest];
      }
      default:
        throw new Error(`input contract: nothing compiles ${JSON.stringify(node).slice(0, 80)}`);
    }
  };

  const [body, size, at, copy] = compile(schema, "value");
  return { body, size, at, ...(copy !== undefined && { copy }), patterns };
}

/** The most characters a string of this node has: its maxLength, its longest enum value, else an assumed bound. */
export function stringBound(node: Schema): number {
  if (node.maxLength !== undefined) return node.maxLength;
  if (node.enum) return Math.max(...node.enum.map((v) => String(v).length));
  return UNBOUNDED_STRING;
}

/** A string's length in code points. */
export function codePoints(text: string): number {
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

/** The normalizer's target: a new document of the schema's shape, every absent field its default, every list copied. */
const normalizeTarget = ({ fresh }: CompileContext): Target<undefined> => ({
  writes: false,
  fillsDefaults: true,
  string: (v) => ["", 0, v],
  number: (v) => ["", 0, v],
  boolean: (v) => ["", 0, v],
  nullable: (v, [inner, , at]) => {
    if (inner === "" && at === v) return ["", 0, v];
    const n = fresh("n");
    return [`let ${n} = null; if (${v} !== null) { ${inner} ${n} = ${at}; }`, 0, n];
  },
  array: (_node, v, n, i, item, [inner, , at]) => {
    const loop = (body: string) => `for (let ${i} = 0; ${i} < ${n}; ${i}++) { const ${item} = ${v}[${i}]; ${body} }`;
    if (at === item) return [inner === "" ? "" : loop(inner), 0, `${v}.slice()`];
    const list = fresh("l");
    return [`const ${list} = new Array(${n}); ${loop(`${inner} ${list}[${i}] = ${at};`)}`, 0, list];
  },
  objectStart: () => undefined,
  object: (_node, _keys, v, fields) => {
    const code = fields.map(({ local, read, inner, fill, present }) => {
      const filled = fill === undefined ? "" : ` if (${local} === undefined) ${local} = ${fill};`;
      return `${read}${filled} ${present}${inner[0]}`;
    });
    return [code.join(" "), 0, `{ ${fields.map(({ key, inner }) => `${JSON.stringify(key)}: ${inner[2]}`).join(", ")} }`];
  },
});

type Run = (l: typeof codePoints, r: readonly Matcher[], f: typeof FORMATS, value: unknown) => unknown;

function build(compiled: Compiled, result: string): (value: unknown) => unknown {
  const run = new Function("L", "R", "F", "value", `${compiled.body} return ${result};`) as Run;
  const patterns = compiled.patterns.map(matcher);
  return (value) => run(codePoints, patterns, FORMATS, value);
}

/**
 * Compiles the normalizer: a new document with every absent field its default (null for the
 * unknowns, empty lists), lists copied. Checked, it also checks the document in the same pass
 * and returns INVALID for one that breaks the contract; unchecked, the document must meet it.
 */
export function compileNormalizer(schema: Schema, options: { checked?: boolean } = {}): (value: unknown) => unknown {
  const compiled = compileSchema(schema, normalizeTarget, options);
  return build(compiled, compiled.at);
}
