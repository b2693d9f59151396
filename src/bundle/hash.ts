/**
 * File digests exactly as OPA computes them for bundle signatures (v1/bundle/hash.go, verify.go):
 * most files are hashed as their bytes; structured documents (`data.json`, `data.yaml`,
 * `.manifest`, by base name) are parsed and hashed in a normal form, so whitespace and key order
 * do not matter. The normal form: objects as `{` + `"key":value` pairs sorted by key bytes and
 * joined by `,` + `}`; arrays likewise in order; strings as Go's encoding/json writes them
 * without HTML escaping; numbers as their literal text (OPA decodes with json.Number).
 */
import { createHash } from "node:crypto";
import { isLosslessNumber, parse } from "lossless-json";

/** Hash algorithms accepted in a signature's file list: the SHA-2 family (OPA also has MD5, SHA-1). */
export const FILE_HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  "SHA-224": "sha224",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
  "SHA-512-224": "sha512-224",
  "SHA-512-256": "sha512-256",
};

/** Whether OPA hashes the file as a structured document rather than as bytes. */
export function isStructuredDoc(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base === "data.json" || base === "data.yaml" || base === "data.yml" || base === ".manifest";
}

/**
 * The hex digest of a bundle file as OPA's signer and verifier compute it. Throws a SyntaxError
 * when a structured document is not JSON (YAML data is not supported by stepup's bundles).
 */
export function hashBundleFile(path: string, bytes: Uint8Array, algorithm = "SHA-256"): string {
  const name = FILE_HASH_ALGORITHMS[algorithm];
  if (!name) throw new RangeError(`unsupported file hash algorithm ${algorithm}`);
  const hash = createHash(name);
  if (isStructuredDoc(path)) {
    const text = Buffer.from(bytes).toString("utf8").replace(/^\uFEFF/, "");
    const out: string[] = [];
    walk(parse(text), out);
    // Buffer.from turns lone surrogates into U+FFFD, as Go's decoder does.
    hash.update(Buffer.from(out.join(""), "utf8"));
  } else {
    hash.update(bytes);
  }
  return hash.digest("hex");
}

/** Appends the normal form of a parsed JSON value to `out`. */
function walk(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      walk(item, out);
    });
    out.push("]");
  } else if (isLosslessNumber(value)) {
    out.push(value.value);
  } else if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort(byUtf8);
    out.push("{");
    keys.forEach((key, i) => {
      if (i > 0) out.push(",");
      out.push(goString(key), ":");
      walk((value as Record<string, unknown>)[key], out);
    });
    out.push("}");
  } else if (typeof value === "string") {
    out.push(goString(value));
  } else {
    out.push(JSON.stringify(value)); // true, false, null
  }
}

/**
 * Go sorts keys by their UTF-8 bytes. UTF-16 order (JavaScript's) agrees except between a
 * character above U+DFFF and one outside the BMP, so compare bytes only when a surrogate is there.
 */
function byUtf8(a: string, b: string): number {
  if (/[\uD800-\uDFFF]/.test(a) || /[\uD800-\uDFFF]/.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** A string as Go's encoding/json writes it with SetEscapeHTML(false). */
function goString(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (code < 0x20) out += `\\u00${code.toString(16).padStart(2, "0")}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}
