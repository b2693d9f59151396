/**
 * Masking decision-log events with rules written like OPA's `system.log.mask`: a bare path or
 * `{op: "remove", path}` erases a value, `{op: "upsert", path, value}` sets one, and — stepup's
 * extensions — `hash` replaces a value with its keyed hash and `truncate_ip` keeps only the network
 * part of an address. As in OPA, a path that is not there is skipped, and the event lists what was
 * touched in `erased` (removals) and `masked` (everything else). The exception trail
 * (`/result/exceptions`, `/result/obligations`) cannot be masked: exceptions must stay reviewable.
 */
import { createHash, createHmac } from "node:crypto";
import ipaddr from "ipaddr.js";
import { MaskOpRule, MaskPath, type MaskRule, type ParsedMaskRule } from "../contracts/decision-log.js";
import { toIssues } from "../contracts/issues.js";
import { AuditConfigInvalidError, type Issue } from "../errors.js";

/** The parts of an event a mask may touch. */
export interface Maskable {
  input?: unknown;
  result?: unknown;
  erased?: string[];
  masked?: string[];
}

/** A compiled rule set; apply it to an event whose input and result it may change in place. */
export type Masker = (event: Maskable) => void;

/**
 * A rule the event writer can apply as it writes, at the key that ends its path: a removal (the
 * key is left out), or a rewrite (the key's value is written as `transform` returns it; undefined
 * leaves the value as it is). Given only for rule sets whose rules do not depend on each other's
 * results: no upsert (it creates objects), no rule on a whole root, no path on or under another.
 */
export type InlineRule = {
  readonly index: number;
  readonly root: "input" | "result";
  /** The keys below the root; the last is the one masked. */
  readonly keys: readonly string[];
  readonly path: string;
} & ({ readonly op: "remove" } | { readonly op: "rewrite"; readonly transform: Transform });

/** What the event writer needs of a masker: its rules, and whether (and how) it may apply them as it writes. */
export interface MaskPlan {
  readonly rules: readonly ParsedMaskRule[];
  /** The rules in order, each as the writer applies it; absent when they must be applied to a copy first. */
  readonly inline?: readonly InlineRule[];
}

const plans = new WeakMap<Masker, MaskPlan>();

/** The plan of a masker made by `compileMask` (an empty one for any other function). */
export function maskPlan(masker: Masker): MaskPlan {
  return plans.get(masker) ?? { rules: [] };
}

/** At most this many rules are applied inline: the writer keeps which applied in the bits of one integer. */
const MAX_INLINE = 31;

const PROTECTED = ["/result/exceptions", "/result/obligations"];

/** Validates mask rules and compiles them; throws `AuditConfigInvalidError` naming the bad rule. */
export function compileMask(rules: readonly MaskRule[], hashKey?: string | Uint8Array): Masker {
  const parsed: ParsedMaskRule[] = [];
  const issues: Issue[] = [];
  rules.forEach((rule, i) => {
    // Parsed by form, so that an issue names the field (`op`, `path`) rather than the union.
    const result = typeof rule === "string" ? MaskPath.safeParse(rule) : MaskOpRule.safeParse(rule);
    if (!result.success) {
      issues.push(...toIssues(result.error, `mask[${i}]`));
      return;
    }
    const path = typeof result.data === "string" ? result.data : result.data.path;
    if (path === "/result" || PROTECTED.some((p) => path === p || path.startsWith(`${p}/`))) {
      issues.push({ path: `mask[${i}].path`, message: `${path} carries the exception trail and cannot be masked` });
    }
    parsed.push(result.data);
  });
  if (issues.length > 0) throw new AuditConfigInvalidError(issues);
  const hash = hasher(hashKey);
  const compiled = parsed.map((rule) => compileRule(rule, hash));
  if (compiled.length === 0) {
    const none: Masker = () => {};
    plans.set(none, { rules: [], inline: [] });
    return none;
  }
  // The input and verdict are shared with the caller: copy only the containers on the rules'
  // paths, once per event, planned here as a trie.
  const plan = { input: new Map() as Trie, result: new Map() as Trie };
  for (const rule of compiled) {
    let node = plan[rule.root];
    for (const key of rule.keys.slice(0, -1)) {
      if (!node.has(key)) node.set(key, new Map());
      node = node.get(key) as Trie;
    }
  }
  const roots = (["input", "result"] as const).filter((root) => compiled.some((r) => r.root === root));
  const masker = (event: Maskable): void => {
    for (const root of roots) if (event[root] !== undefined) event[root] = copyAlong(event[root], plan[root]);
    for (const rule of compiled) rule.apply(event);
  };
  plans.set(masker, { rules: parsed, inline: inlineRules(compiled) });
  return masker;
}

function inlineRules(compiled: readonly CompiledRule[]): InlineRule[] | undefined {
  if (compiled.length > MAX_INLINE) return undefined;
  const out: InlineRule[] = [];
  for (const [index, rule] of compiled.entries()) {
    if (rule.op === "upsert" || rule.keys.length === 0) return undefined;
    const overlaps = compiled.some((other, j) => j !== index && other.root === rule.root && other.keys.length >= rule.keys.length && rule.keys.every((key, k) => other.keys[k] === key));
    if (overlaps) return undefined;
    const at = { index, root: rule.root, keys: rule.keys, path: rule.path };
    out.push(rule.op === "remove" ? { ...at, op: "remove" } : { ...at, op: "rewrite", transform: rule.transform! });
  }
  return out;
}

type Trie = Map<string, Trie>;

function copyAlong(node: unknown, trie: Trie): unknown {
  if (typeof node !== "object" || node === null) return node;
  const out = (Array.isArray(node) ? [...node] : { ...node }) as Record<string, unknown>;
  for (const [key, sub] of trie) if (Object.hasOwn(out, key)) out[key] = copyAlong(out[key], sub);
  return out;
}

interface CompiledRule {
  readonly root: "input" | "result";
  readonly keys: readonly string[];
  readonly path: string;
  readonly op: "remove" | "upsert" | "rewrite";
  /** A rewrite's new value for the old one (undefined: left as it is). */
  readonly transform?: Transform;
  apply(event: Maskable): void;
}

/** A rewrite's new value for the old one; undefined leaves the value as it is (and unlisted). */
export type Transform = (value: unknown) => { value: unknown } | undefined;

function compileRule(rule: ParsedMaskRule, hash: (s: string) => string): CompiledRule {
  const path = typeof rule === "string" ? rule : rule.path;
  const [root, ...keys] = path.slice(1).split("/").map(decodeURIComponent) as ["input" | "result", ...string[]];
  // The parent's keys and the last one, sliced once here rather than on every event.
  const at: Keys = { keys, parent: keys.slice(0, -1), grandparent: keys.slice(0, -2), last: keys[keys.length - 1] as string };
  if (typeof rule === "string" || rule.op === "remove") {
    return { root, keys, path, op: "remove", apply: (event) => remove(event, root, at, path) };
  }
  if (rule.op === "upsert") {
    return { root, keys, path, op: "upsert", apply: (event) => upsert(event, root, keys, path, rule.value) };
  }
  const truncate = memo((ip) => truncateIp(ip, rule.op === "truncate_ip" ? rule.ipv4_prefix : 24, rule.op === "truncate_ip" ? rule.ipv6_prefix : 48));
  const transform: Transform =
    rule.op === "hash"
      ? (v) => (v === null ? undefined : { value: hash(typeof v === "string" ? v : JSON.stringify(v)) })
      : (v) => (v === null ? undefined : { value: typeof v === "string" ? truncate(v) : null });
  return { root, keys, path, op: "rewrite", transform, apply: (event) => rewrite(event, root, at, path, transform) };
}

interface Keys {
  readonly keys: readonly string[];
  readonly parent: readonly string[];
  readonly grandparent: readonly string[];
  readonly last: string;
}

function remove(event: Maskable, root: "input" | "result", at: Keys, path: string): void {
  if (event[root] === undefined) return;
  if (at.keys.length === 0) {
    delete event[root];
  } else {
    const parent = walk(event[root], at.parent);
    const last = at.last;
    if (Array.isArray(parent)) {
      const i = index(last, parent.length);
      if (i === undefined) return;
      parent.splice(i, 1);
    } else if (isObject(parent) && Object.hasOwn(parent, last)) {
      // A copy without the key (the parent is the mask's own copy already) rather than `delete`,
      // which turns the object into a dictionary that JSON.stringify writes a good third slower.
      replace(event, root, at.parent, at.grandparent, without(parent, last));
    } else return;
  }
  (event.erased ??= []).push(path);
}

/** Puts `value` at `keys` (whose parent is at `parent`) under the root, where walk() found the value it replaces. */
function replace(event: Maskable, root: "input" | "result", keys: readonly string[], parent: readonly string[], value: unknown): void {
  if (keys.length === 0) {
    event[root] = value;
    return;
  }
  const holder = walk(event[root], parent);
  const last = keys[keys.length - 1] as string;
  if (Array.isArray(holder)) holder[Number(last)] = value;
  else if (isObject(holder)) holder[last] = value;
}

function without(node: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(node)) {
    if (k === key) continue;
    // As a spread copies it: "__proto__" stays a key like any other.
    if (k === "__proto__") Object.defineProperty(out, k, { value: node[k], enumerable: true, writable: true, configurable: true });
    else out[k] = node[k];
  }
  return out;
}

function upsert(event: Maskable, root: "input" | "result", keys: string[], path: string, value: unknown): void {
  if (event[root] === undefined) return;
  if (keys.length === 0) {
    event[root] = value;
  } else {
    let node: unknown = event[root];
    for (const key of keys.slice(0, -1)) {
      if (isObject(node)) node = node[key] ??= {};
      else if (Array.isArray(node) && index(key, node.length) !== undefined) node = node[Number(key)];
      else return;
    }
    const last = keys[keys.length - 1] as string;
    if (isObject(node)) node[last] = value;
    else if (Array.isArray(node) && index(last, node.length) !== undefined) node[Number(last)] = value;
    else return;
  }
  (event.masked ??= []).push(path);
}

function rewrite(event: Maskable, root: "input" | "result", at: Keys, path: string, transform: Transform): void {
  if (event[root] === undefined) return;
  if (at.keys.length === 0) {
    const out = transform(event[root]);
    if (!out) return;
    event[root] = out.value;
  } else {
    const parent = walk(event[root], at.parent);
    const last = at.last;
    if (Array.isArray(parent)) {
      const i = index(last, parent.length);
      const out = i === undefined ? undefined : transform(parent[i]);
      if (i === undefined || !out) return;
      parent[i] = out.value;
    } else if (isObject(parent) && Object.hasOwn(parent, last)) {
      const out = transform(parent[last]);
      if (!out) return;
      parent[last] = out.value;
    } else return;
  }
  (event.masked ??= []).push(path);
}

function walk(node: unknown, keys: readonly string[]): unknown {
  for (const key of keys) {
    if (isObject(node)) node = Object.hasOwn(node, key) ? node[key] : undefined;
    else if (Array.isArray(node)) node = node[index(key, node.length) ?? -1];
    else return undefined;
  }
  return node;
}

function index(key: string, length: number): number | undefined {
  if (!/^\d+$/.test(key)) return undefined;
  const i = Number(key);
  return i < length ? i : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** HMAC-SHA256 with the key when one is given (recommended: a bare hash of an email is guessable). */
function hasher(key?: string | Uint8Array): (s: string) => string {
  if (key === undefined) return memo((s) => `sha256:${createHash("sha256").update(s).digest("hex")}`);
  return memo((s) => `hmac-sha256:${createHmac("sha256", key).update(s).digest("hex")}`);
}

/** Subjects and addresses repeat: remember recent results (bounded) instead of recomputing. */
function memo<T>(fn: (s: string) => T, size = 4096): (s: string) => T {
  const cache = new Map<string, T>();
  return (s) => {
    let out = cache.get(s);
    if (out === undefined) {
      if (cache.size >= size) cache.clear();
      out = fn(s);
      cache.set(s, out);
    }
    return out;
  };
}

/** The address with its host part zeroed; anything that is not an address is erased to null. */
export function truncateIp(value: unknown, v4Prefix = 24, v6Prefix = 48): string | null {
  if (typeof value !== "string" || !ipaddr.isValid(value)) return null;
  const addr = ipaddr.process(value);
  const prefix = addr.kind() === "ipv4" ? v4Prefix : v6Prefix;
  const bytes = addr.toByteArray();
  bytes.forEach((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = b & ((0xff << (8 - keep)) & 0xff);
  });
  return ipaddr.fromByteArray(bytes).toString();
}
