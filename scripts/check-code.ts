// A contract's JSON Schema (as zod generates it, with reused schemas as $defs) compiled into a
// small ES module that answers only "does this JSON document meet the contract?". For contracts
// too large for ajv's standalone code: ajv writes an error object for every keyword, which for
// the tuning data came to 130–220 KB that a process compiled on first use, more than zod's own
// check cost. This code returns false at the first value that breaks the contract, and zod names
// the problems then. It reads a document as JSON.parse builds it: each object's own enumerable
// keys, once. Every keyword it does not know fails the generation, so a contract that grows one
// is not checked loosely. test/contracts/compiled.test.ts holds its answers to zod's.

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
  "$ref",
  "$defs",
]);

/** The module's source: `validate(value)` is true when the value meets the schema. */
export function checkSource(schema: Node): string {
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
        if (node.pattern !== undefined) parts.push(`P${patterns.push(String(node.pattern)) - 1}.test(${v})`);
        break;
      default:
        throw new Error(`check code: no check for type ${type}`);
    }
    return parts.join(" && ");
  };

  /** Statements checking the local `v` against `node`, each returning false at a value that breaks it. */
  const statements = (node: Node, v: string): string => {
    for (const key of Object.keys(node)) {
      if (!KNOWN.has(key) && !ANNOTATIONS.has(key)) throw new Error(`check code: no check for ${key}`);
    }
    const out: string[] = [];
    if (node.$ref !== undefined) out.push(`if (!${ref(node)}(${v})) return false;`);
    if (node.anyOf !== undefined) {
      out.push(`if (!(${(node.anyOf as Node[]).map((branch) => `${helper(branch)}(${v})`).join(" || ")})) return false;`);
    }
    if (node.enum !== undefined) out.push(`if (!(${(node.enum as unknown[]).map((value) => `${v} === ${literal(value)}`).join(" || ")})) return false;`);
    if ("const" in node) out.push(`if (${v} !== ${literal(node.const)}) return false;`);
    const type = node.type;
    if (Array.isArray(type)) {
      out.push(`if (!(${type.map((t: string) => `${helper({ ...node, type: t })}(${v})`).join(" || ")})) return false;`);
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
      const check = statements(properties[key]!, local);
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
