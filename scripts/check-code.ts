// A contract's JSON Schema (as zod generates it, reused schemas possibly as $defs) compiled into
// a small ES module that answers only "does this document meet the contract?": straight-line code,
// scalars and their unions inline, returning false at the first value that breaks the contract;
// zod names the problems then. ajv's standalone code answers the same but writes an error object
// for every keyword: 130–220 KB for the tuning data's contract, 35 KB for the verdict's, which a
// cold start compiled (the verdict's on the first decision) for no faster a check. It reads a
// document as JSON.parse builds it: each object's own enumerable keys, once. Every keyword it does
// not know fails the generation, so a contract that grows one is not checked loosely.
// test/contracts/compiled.test.ts holds its answers to zod's.

type Node = Record<string, unknown>;

/** Keywords that say nothing about which values meet the schema. */
const ANNOTATIONS = new Set(["description", "title", "$schema", "$comment"]);
const KNOWN = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "pattern",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "$ref",
  "$defs",
]);

const SCALARS = new Set(["null", "boolean", "integer", "number", "string"]);
/** The keywords of a scalar's check (and of unions of scalars). */
const SCALAR_KEYWORDS = new Set(["type", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum", "const", "anyOf"]);

/**
 * The module's source: `validate(value)` is true when the value meets the schema. With `defaults`,
 * it also writes the default of a field that is absent into the document, as zod's output and
 * ajv's `useDefaults` have it; without, a schema with defaults fails the generation.
 */
export function checkSource(schema: Node, options: { defaults?: boolean } = {}): string {
  const defs = (schema.$defs ?? {}) as Record<string, Node>;
  const defNames = new Map(Object.keys(defs).map((name, n) => [name, `d${n}`]));
  const patterns: string[] = [];
  const helpers: string[] = [];
  let next = 0;
  const fresh = (prefix: string) => `${prefix}${next++}`;

  const ref = (node: Node): string => {
    const target = /^#\/\$defs\/(.+)$/.exec(String(node.$ref))?.[1];
    const name = target === undefined ? undefined : defNames.get(target);
    if (name === undefined) throw new Error(`check code: a reference outside $defs: ${String(node.$ref)}`);
    return name;
  };

  /** A function of its own for `node` (anyOf's branches): its name. */
  const helper = (node: Node): string => {
    const name = fresh("h");
    helpers.push(`function ${name}(v) { ${statements(node, "v")} return true; }`);
    return name;
  };

  /** The checks of one type's keywords, as a boolean expression over the local `v`. */
  const scalar = (node: Node, type: string, v: string): string => {
    const parts: string[] = [];
    switch (type) {
      case "null":
        parts.push(`${v} === null`);
        break;
      case "boolean":
        parts.push(`typeof ${v} === "boolean"`);
        break;
      case "integer":
      case "number":
        parts.push(`typeof ${v} === "number"`, type === "integer" ? `Number.isInteger(${v})` : `Number.isFinite(${v})`);
        if (node.minimum !== undefined) parts.push(`${v} >= ${Number(node.minimum)}`);
        if (node.maximum !== undefined) parts.push(`${v} <= ${Number(node.maximum)}`);
        if (node.exclusiveMinimum !== undefined) parts.push(`${v} > ${Number(node.exclusiveMinimum)}`);
        if (node.exclusiveMaximum !== undefined) parts.push(`${v} < ${Number(node.exclusiveMaximum)}`);
        break;
      case "string":
        parts.push(`typeof ${v} === "string"`);
        // Lengths in code points, as zod counts them; counted only when UTF-16 units leave the answer open.
        if (node.maxLength !== undefined) parts.push(`(${v}.length <= ${Number(node.maxLength)} || L(${v}) <= ${Number(node.maxLength)})`);
        if (node.minLength !== undefined) {
          const min = Number(node.minLength);
          parts.push(`${v}.length >= ${min}`, `(${v}.length >= ${2 * min} || L(${v}) >= ${min})`);
        }
        if (node.pattern !== undefined) {
          const known = patterns.indexOf(String(node.pattern));
          parts.push(`P${known >= 0 ? known : patterns.push(String(node.pattern)) - 1}.test(${v})`);
        }
        break;
      default:
        throw new Error(`check code: no check for type ${type}`);
    }
    return parts.join(" && ");
  };

  /**
   * A boolean expression checking the local `v` against a node of scalars only (and their unions):
   * inline, without a call. Undefined for a node with objects, lists or references in it.
   */
  const test = (node: Node, v: string): string | undefined => {
    if (Object.keys(node).some((key) => !SCALAR_KEYWORDS.has(key) && !ANNOTATIONS.has(key) && key !== "default")) return undefined;
    const parts: string[] = [];
    if (node.anyOf !== undefined) {
      const branches = (node.anyOf as Node[]).map((branch) => test(branch, v));
      if (branches.some((branch) => branch === undefined)) return undefined;
      parts.push(`(${branches.map((branch) => `(${branch})`).join(" || ")})`);
    }
    if (node.enum !== undefined) parts.push(`(${(node.enum as unknown[]).map((value) => `${v} === ${literal(value)}`).join(" || ")})`);
    if ("const" in node) parts.push(`${v} === ${literal(node.const)}`);
    const type = node.type;
    const types = type === undefined ? [] : Array.isArray(type) ? (type as string[]) : [type as string];
    if (types.some((t) => !SCALARS.has(t))) return undefined;
    if (types.length > 0) parts.push(`(${types.map((t) => `(${scalar(node, t, v)})`).join(" || ")})`);
    return parts.length === 0 ? "true" : parts.join(" && ");
  };

  /** A branch of a union as an expression: inline for scalars, else a call. */
  const branch = (node: Node, v: string): string => test(node, v) ?? `${helper(node)}(${v})`;

  /** Statements checking the local `v` against `node`, each returning false at a value that breaks it. */
  const statements = (node: Node, v: string): string => {
    for (const key of Object.keys(node)) {
      if (!KNOWN.has(key) && !ANNOTATIONS.has(key) && !(key === "default" && options.defaults)) throw new Error(`check code: no check for ${key}`);
    }
    const inline = test(node, v);
    if (inline !== undefined) return inline === "true" ? "" : `if (!(${inline})) return false;`;
    const out: string[] = [];
    if (node.$ref !== undefined) out.push(`if (!${ref(node)}(${v})) return false;`);
    if (node.anyOf !== undefined) {
      out.push(`if (!(${(node.anyOf as Node[]).map((b) => branch(b, v)).join(" || ")})) return false;`);
    }
    if (node.oneOf !== undefined) {
      // Exactly one branch: every branch is tried (a discriminated union's are exclusive anyway).
      out.push(`if ((${(node.oneOf as Node[]).map((b) => `(${branch(b, v)} ? 1 : 0)`).join(" + ")}) !== 1) return false;`);
    }
    if (node.enum !== undefined) out.push(`if (!(${(node.enum as unknown[]).map((value) => `${v} === ${literal(value)}`).join(" || ")})) return false;`);
    if ("const" in node) out.push(`if (${v} !== ${literal(node.const)}) return false;`);
    const type = node.type;
    if (Array.isArray(type)) {
      out.push(`if (!(${type.map((t: string) => branch({ ...node, type: t }, v)).join(" || ")})) return false;`);
    } else if (type === "object") {
      out.push(object(node, v));
    } else if (type === "array") {
      out.push(array(node, v));
    } else if (typeof type === "string") {
      out.push(`if (!(${scalar(node, type, v)})) return false;`);
    } else if (type !== undefined) {
      throw new Error(`check code: type ${JSON.stringify(type)}`);
    }
    return out.join(" ");
  };

  const object = (node: Node, v: string): string => {
    const properties = (node.properties ?? {}) as Record<string, Node>;
    const required = new Set((node.required ?? []) as string[]);
    const keys = Object.keys(properties);
    const locals = keys.map(() => fresh("f"));
    const k = fresh("k");
    const additional = node.additionalProperties;
    let other = "";
    if (additional === false) other = "return false;";
    else if (additional !== undefined && additional !== true && Object.keys(additional as Node).length > 0) {
      const x = fresh("x");
      other = `const ${x} = ${v}[${k}]; ${statements(additional as Node, x)}`;
    }
    const names = node.propertyNames === undefined ? "" : statements(node.propertyNames as Node, k);
    const reads = keys.map((key, n) => `if (${k} === ${literal(key)}) ${locals[n]} = ${v}[${k}];`);
    const dispatch = [...reads, other === "" ? "" : `{ ${other} }`].filter((part) => part !== "").join(" else ");
    const fields = keys.map((key, n) => {
      const local = locals[n]!;
      const property = properties[key]!;
      const check = statements(property, local);
      // An absent field takes its default (a fresh value each time), which is then checked.
      if ("default" in property) return `if (${local} === undefined) ${v}[${literal(key)}] = ${local} = ${literal(property.default)}; ${check}`;
      return required.has(key) ? `if (${local} === undefined) return false; ${check}` : `if (${local} !== undefined) { ${check} }`;
    });
    return [
      `if (${v} === null || typeof ${v} !== "object" || Array.isArray(${v})) return false;`,
      locals.length > 0 ? `let ${locals.join(", ")};` : "",
      `for (const ${k} in ${v}) { if (!H.call(${v}, ${k})) continue; ${names} ${dispatch} }`,
      ...fields,
    ].join(" ");
  };

  const array = (node: Node, v: string): string => {
    const n = fresh("n");
    const out = [`if (!Array.isArray(${v})) return false;`, `const ${n} = ${v}.length;`];
    const prefix = (node.prefixItems ?? []) as Node[];
    const bounds: string[] = [];
    if (node.minItems !== undefined) bounds.push(`${n} < ${Number(node.minItems)}`);
    if (node.maxItems !== undefined) bounds.push(`${n} > ${Number(node.maxItems)}`);
    if (node.items === false) bounds.push(`${n} > ${prefix.length}`);
    if (bounds.length > 0) out.push(`if (${bounds.join(" || ")}) return false;`);
    prefix.forEach((item, index) => {
      const x = fresh("x");
      out.push(`if (${n} > ${index}) { const ${x} = ${v}[${index}]; ${statements(item, x)} }`);
    });
    if (node.items !== undefined && node.items !== false && node.items !== true) {
      const [i, x] = [fresh("i"), fresh("x")];
      out.push(`for (let ${i} = ${prefix.length}; ${i} < ${n}; ${i}++) { const ${x} = ${v}[${i}]; ${statements(node.items as Node, x)} }`);
    }
    return out.join(" ");
  };

  const { $defs: _, ...root } = schema;
  const body = statements(root, "value");
  const defined = Object.entries(defs).map(([name, def]) => `function ${defNames.get(name)}(v) { ${statements(def, "v")} return true; }`);
  return [
    "const H = Object.prototype.hasOwnProperty;",
    ...patterns.map((source, n) => `const P${n} = new RegExp(${literal(source)});`),
    CODE_POINTS,
    ...defined,
    ...helpers,
    `export function validate(value) { ${body} return true; }`,
  ].join("\n");
}

function literal(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`check code: no literal for ${String(value)}`);
  return text;
}

/** A string's length in code points, as zod counts it (src/input/compile.ts has the same). */
const CODE_POINTS = `function L(text) {
  let count = 0;
  for (let i = 0; i < text.length; i++) { const c = text.charCodeAt(i); if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { const d = text.charCodeAt(i + 1); if (d >= 0xdc00 && d <= 0xdfff) i++; } count++; }
  return count;
}`;
