/**
 * A caller's document read once. `decide` checks, evaluates and logs the same document, so it
 * must not read the caller's object more than once: a getter (or a Proxy) could answer one thing
 * to the check and the policy and another to the decision log. The snapshot is a copy of the
 * document as data — arrays, and objects by their own enumerable properties, each read once;
 * other values as they are (the contract then refuses what is not JSON) — and what follows reads
 * only the copy. Inherited properties are not part of a document and are not copied. (The
 * engine's checked writer of OPA's values reads a document the same way and copies it as it
 * writes it, src/input/compile.ts; a document it does not take is snapshotted here.)
 *
 * The copy also refuses, naming the field, a string that is not Unicode text: a lone surrogate
 * (from JavaScript, or a `\ud800` escape in JSON) has no UTF-8 encoding, so no runtime could
 * evaluate it as sent; it is the caller's error (`ERR_INPUT_INVALID`), not the policy's.
 */
import { InputInvalidError } from "../errors.js";

// Bounds past which a value is left as it is, uncopied: far beyond anything the input contract
// accepts (depth 4, lists of 64, strings of 2,048), so the contract refuses it, without the copy
// costing more than the check.
const MAX_DEPTH = 8;
const MAX_ITEMS = 1_024;
const MAX_KEYS = 256;
const MAX_TEXT = 65_536;

type WellFormed = { isWellFormed(): boolean };

/** Thrown through the copy when a string is not Unicode text; the path is found afterwards. */
const NOT_TEXT = Symbol("not Unicode text");

/** The document as data, read once; throws `InputInvalidError` for a string that is not Unicode text. */
export function snapshotInput(raw: unknown): unknown {
  try {
    return copy(raw, 0);
  } catch (err) {
    if (err !== NOT_TEXT) throw err;
    // Only a refused document is walked again, to name the field: the copy tracks no path.
    throw new InputInvalidError([{ path: pathToBadText(raw, 0) ?? "", message: "is not Unicode text: it holds a lone surrogate, which UTF-8 cannot encode" }]);
  }
}

/**
 * A document that is data already — parsed from JSON, or structured-cloned from another thread:
 * no getter, no Proxy, nothing inherited to read twice — checked for text the same way, without
 * a copy. Returns it, or throws `InputInvalidError` as `snapshotInput` does.
 */
export function checkParsedInput(doc: unknown): unknown {
  if (textIsWellFormed(doc, 0)) return doc;
  throw new InputInvalidError([{ path: pathToBadText(doc, 0) ?? "", message: "is not Unicode text: it holds a lone surrogate, which UTF-8 cannot encode" }]);
}

function textIsWellFormed(value: unknown, depth: number): boolean {
  if (typeof value === "string") return value.length > MAX_TEXT || (value as unknown as WellFormed).isWellFormed();
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    if (value.length > MAX_ITEMS) return true;
    for (let i = 0; i < value.length; i++) if (!textIsWellFormed(value[i], depth + 1)) return false;
    return true;
  }
  for (const key in value) if (!textIsWellFormed((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

function copy(value: unknown, depth: number): unknown {
  if (typeof value === "string") {
    if (value.length <= MAX_TEXT && !(value as unknown as WellFormed).isWellFormed()) throw NOT_TEXT;
    return value;
  }
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const n = value.length;
    if (n > MAX_ITEMS) return value;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = copy(value[i], depth + 1);
    return out;
  }
  const out: Record<string, unknown> = {};
  let keys = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (++keys > MAX_KEYS) return value;
    const field = copy((value as Record<string, unknown>)[key], depth + 1);
    if (key === "__proto__") Object.defineProperty(out, key, { value: field, writable: true, enumerable: true, configurable: true });
    else out[key] = field;
  }
  return out;
}

function pathToBadText(value: unknown, depth: number): string | undefined {
  if (typeof value === "string") return (value as unknown as WellFormed).isWellFormed() ? undefined : "";
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return undefined;
  for (const [key, field] of Object.entries(value)) {
    const below = pathToBadText(field, depth + 1);
    if (below === undefined) continue;
    const here = Array.isArray(value) ? `[${key}]` : key;
    return below === "" || below.startsWith("[") ? `${here}${below}` : `${here}.${below}`;
  }
  return undefined;
}
