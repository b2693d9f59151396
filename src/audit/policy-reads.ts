/**
 * Which parts of the input a policy reads, found in the bundle's own Rego, and which mask rules
 * hide one of them. A decision logged with such a field masked cannot be replayed: evaluating
 * the masked input would answer for another request. The Rego is scanned for references to
 * `input` (comments left out; `with input as …` is a replacement, not a read): `input.a.b` and
 * `input["a"]["b"]` read that path and everything under it; a reference that goes on with a
 * variable reads the whole object at its static part; `is_object(input.a)` and its like read only
 * whether `a` is there. A test checks the scan against OPA's own parser.
 */
import type { Bundle } from "../bundle/load.js";

/** A path the policy reads (keys under `input`), and where. */
export interface PolicyRead {
  readonly keys: readonly string[];
  /** Only the value's type is read (`is_object(input.device)`), not what is inside. */
  readonly shapeOnly: boolean;
  readonly file: string;
}

const TYPE_CHECKS = /\b(is_object|is_null|is_array|is_string|is_number|is_boolean|is_set)\(\s*$/;

/**
 * The input paths the bundle's Rego reads for a decision. Left out: test files; the Envoy
 * entrypoint's package, whose input is Envoy's CheckRequest (it hands the decision the input it
 * maps with `with input as`); and the input contract's package, which reads every field only to
 * check the document and fill it in, as the SDK does before evaluating (a replay evaluates what
 * the SDK's check accepts, so what the decision depends on is what the policy's rules read).
 */
export function policyReads(files: Bundle["files"]): PolicyRead[] {
  const reads: PolicyRead[] = [];
  for (const [path, bytes] of files) {
    if (!path.endsWith(".rego") || path.endsWith("_test.rego")) continue;
    const source = Buffer.from(bytes).toString("utf8");
    if (/^package\s+stepup\.(envoy|contract)\b/m.test(source)) continue;
    reads.push(...readsIn(source, path));
  }
  return reads;
}

/** The references to `input` in one Rego module. */
export function readsIn(source: string, file: string): PolicyRead[] {
  const text = withoutComments(source);
  const reads: PolicyRead[] = [];
  const ref = /(?<![\w.])input((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\s*"(?:[^"\\]|\\.)*"\s*\])*)(?![\w])/g;
  for (let m = ref.exec(text); m; m = ref.exec(text)) {
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (/\bwith\s+$/.test(before)) continue;
    const keys: string[] = [];
    const part = /\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*("(?:[^"\\]|\\.)*")\s*\]/g;
    for (let k = part.exec(m[1] ?? ""); k; k = part.exec(m[1] ?? "")) keys.push(k[1] ?? (JSON.parse(k[2]!) as string));
    reads.push({ keys, shapeOnly: TYPE_CHECKS.test(before), file });
  }
  return reads;
}

/**
 * The source with comments and the contents of string literals blanked out (a `#` in a string is
 * not a comment, and `"input.x"` is text), except a string that is a reference's key
 * (`input["a"]`), which is kept.
 */
function withoutComments(source: string): string {
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '"' || c === "`") {
      let end = i + 1;
      while (end < source.length && source[end] !== c) end += c === '"' && source[end] === "\\" ? 2 : 1;
      const literal = source.slice(i, end + 1);
      // A key's bracket follows its reference directly (`input["a"]`); a list's follows anything else.
      out += /[\w\]]\[\s*$/.test(out) ? literal : c + literal.slice(1, -1).replace(/[^\n]/g, " ") + c;
      i = end;
    } else if (c === "#") {
      while (i < source.length && source[i] !== "\n") i++;
      out += "\n";
    } else out += c;
  }
  return out;
}

/** The keys of a mask path under `/input` (`/input/subject/id` → subject, id); undefined for `/result`. */
export function inputKeys(maskPath: string): string[] | undefined {
  const [root, ...keys] = maskPath.slice(1).split("/").map(decodeURIComponent);
  return root === "input" ? keys : undefined;
}

/**
 * The reads a masked path hides: those at or under it, and those above it that look inside
 * (a read of the whole `input.device` sees a masked `device.id`; `is_object(input.device)` does not).
 */
export function hiddenReads(maskPath: string, reads: readonly PolicyRead[]): PolicyRead[] {
  const keys = inputKeys(maskPath);
  if (!keys) return [];
  return reads.filter((read) => {
    const n = Math.min(keys.length, read.keys.length);
    for (let i = 0; i < n; i++) if (keys[i] !== read.keys[i]) return false;
    return keys.length <= read.keys.length || !read.shapeOnly;
  });
}

/** Of the masked paths, those that hide something the policy reads. */
export function maskedReads(maskPaths: readonly string[], reads: readonly PolicyRead[]): string[] {
  return maskPaths.filter((path) => hiddenReads(path, reads).length > 0);
}

/** A mask rule that hides fields the policy reads: its index, its path and those reads. */
export interface MaskFinding {
  readonly index: number;
  readonly path: string;
  readonly reads: readonly PolicyRead[];
}

/** The rules (as the logger's `mask` option takes them) that hide a field the policy reads. */
export function checkMask(rules: readonly (string | { readonly path: string })[], reads: readonly PolicyRead[]): MaskFinding[] {
  const findings: MaskFinding[] = [];
  rules.forEach((rule, index) => {
    const path = typeof rule === "string" ? rule : rule.path;
    const hidden = hiddenReads(path, reads);
    if (hidden.length > 0) findings.push({ index, path, reads: hidden });
  });
  return findings;
}

/** A read as a person writes it: `input.subject.id`. */
export function describeRead(read: PolicyRead): string {
  return ["input", ...read.keys].join(".");
}
