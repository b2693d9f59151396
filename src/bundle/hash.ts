/**
 * File digests exactly as OPA computes them for bundle signatures (v1/bundle/hash.go, verify.go):
 * most files are hashed as their bytes; structured documents (`data.json`, `data.yaml`,
 * `.manifest`, by base name) are parsed and hashed in a normal form, so whitespace and key order
 * do not matter. The normal form: objects as `{` + `"key":value` pairs sorted by key bytes and
 * joined by `,` + `}`; arrays likewise in order; strings as Go's encoding/json writes them
 * without HTML escaping; numbers as their literal text (OPA decodes with json.Number).
 */
import { createHash, type Hash } from "node:crypto";
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
    walk(parse(text), hash);
  } else {
    hash.update(bytes);
  }
  return hash.digest("hex");
}

function walk(value: unknown, hash: Hash): void {
  if (Array.isArray(value)) {
    hash.update("[");
    value.forEach((item, i) => {
      if (i > 0) hash.update(",");
      walk(item, hash);
    });
    hash.update("]");
  } else if (isLosslessNumber(value)) {
    hash.update(value.value);
  } else if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    // Go sorts keys by their UTF-8 bytes; JavaScript's default sort uses UTF-16 units.
    entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    hash.update("{");
    entries.forEach(([key, item], i) => {
      if (i > 0) hash.update(",");
      hash.update(goString(key));
      hash.update(":");
      walk(item, hash);
    });
    hash.update("}");
  } else if (typeof value === "string") {
    hash.update(goString(value));
  } else {
    hash.update(JSON.stringify(value)); // true, false, null
  }
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

/** A string as Go's encoding/json writes it with SetEscapeHTML(false), as UTF-8. */
function goString(value: string): Buffer {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (code < 0x20) out += `\\u00${code.toString(16).padStart(2, "0")}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  // Buffer.from turns lone surrogates into U+FFFD, as Go's decoder does.
  return Buffer.from(`${out}"`, "utf8");
}
