/**
 * The rewrites of OPA's runtime that the bundle build can apply (optimize.ts), by the names the
 * bundle's manifest records in `metadata.stepup.wasm.rewrites`. The host reads the record: it
 * takes the module's constant strings as object keys only when `constant-keys` was applied
 * (host.ts, `valueForm`).
 */
export const REWRITES = {
  /** OPA's memo as a flat table (memo-table.ts). */
  memoTable: "memo-table",
  /** Fronts for strings in OPA's hash, compare and lookup (string-paths.ts). */
  stringPaths: "string-paths",
  /** OPA's JSON parser gives a string equal to one of the module's constants as that constant (string-paths.ts). */
  constantKeys: "constant-keys",
  /** Integers OPA's parser reads kept as integers (parsed-integers.ts). */
  parsedIntegers: "parsed-integers",
  /** Iterating a set or an object steps on from the element it last gave (iteration-cursor.ts). */
  iterationCursor: "iteration-cursor",
} as const;

export type Rewrite = (typeof REWRITES)[keyof typeof REWRITES];
