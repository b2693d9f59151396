/**
 * Comparing what several runtimes decided for the same input, and saying where they differ: the
 * input and, for every differing field, each runtime's value. Used by the parity suites.
 */

/** One runtime's answer: a verdict (normalised), or the code of the error it gave instead. */
export type RuntimeAnswer = unknown;

export interface FieldDifference {
  /** A dotted path such as `requirement.max_age`, or "(whole answer)". */
  readonly field: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Every field on which the runtimes' answers are not all equal (empty when they agree). */
export function differingFields(answers: Readonly<Record<string, RuntimeAnswer>>): FieldDifference[] {
  const names = Object.keys(answers);
  const paths = new Map<string, string[]>();
  for (const name of names.slice(1)) collect(answers[names[0] as string], answers[name], [], paths);
  return [...paths.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([field, keys]) => ({
      field: field || "(whole answer)",
      values: Object.fromEntries(names.map((name) => [name, at(answers[name], keys)])),
    }));
}

/** A report for people: the input, then each differing field with every runtime's value. */
export function describeMismatch(label: string, input: unknown, differences: readonly FieldDifference[]): string {
  const lines = [`${label}`, `  input: ${JSON.stringify(input)}`];
  for (const d of differences) {
    const values = Object.entries(d.values).map(([name, value]) => `${name}=${JSON.stringify(value) ?? "undefined"}`);
    lines.push(`  ${d.field}: ${values.join("  ")}`);
  }
  return lines.join("\n");
}

// Keys are kept as arrays: signal codes such as "device.unmanaged" are keys with dots in them.
function collect(a: unknown, b: unknown, keys: string[], into: Map<string, string[]>): void {
  if (Object.is(a, b)) return;
  if (isRecord(a) && isRecord(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) collect(a[key], b[key], [...keys, key], into);
    return;
  }
  into.set(keys.map((k) => (k.includes(".") ? `["${k}"]` : k)).join("."), keys);
}

function at(value: unknown, keys: readonly string[]): unknown {
  let node = value;
  for (const key of keys) node = isRecord(node) ? node[key] : undefined;
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
