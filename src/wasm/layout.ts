/**
 * OPA's value layout in its WebAssembly runtime: the one place that says how OPA lays out its
 * values in a module's memory, for the OPA versions listed in `LAYOUT_OPA_VERSIONS`. None of it is
 * OPA's ABI (which is the exported functions, JSON in and out): it is the runtime's C code
 * (wasm/src/value.h, json.h, value.c, memoize.h in OPA's module) and what OPA's compiler writes into
 * a module's data (internal/compiler/wasm/wasm.go). Every file that reads or writes OPA's values —
 * the host (host.ts), the value writer (input-writer.ts), the value reader (value-reader.ts) and
 * the build's rewrites (rewrite/) — takes the layout from here, and only files in src/wasm/ may
 * import it (.dependency-cruiser.cjs).
 *
 * test/wasm/layout.test.ts reads the same facts out of the pinned OPA module's source — struct
 * sizes and offsets computed from value.h as a wasm32 C compiler lays them out, the tags, the
 * compiler's interned constants, the functions the rewrites front — and fails when any differ.
 * docs/architecture/opa-wasm.md says what else is assumed and how an OPA upgrade is checked.
 */

/**
 * The OPA versions whose runtime this layout was checked against (test/wasm/layout.test.ts on
 * their source): the bundle build applies its rewrites of OPA's runtime only to modules compiled
 * by one of them. Without the leading "v", as `opa version` prints it.
 */
export const LAYOUT_OPA_VERSIONS: readonly string[] = ["1.22.3"];

/** Bytes of a pointer or a `size_t` on wasm32: a bucket array holds one per bucket. */
export const POINTER_BYTES = 4;

/** Value type tags (value.h `OPA_NULL` …; the compiler's `opaTypeNull` … in the same order). */
export const TYPE = {
  NULL: 1,
  BOOLEAN: 2,
  NUMBER: 3,
  STRING: 4,
  ARRAY: 5,
  OBJECT: 6,
  SET: 7,
  STRING_INTERNED: 8,
  BOOLEAN_INTERNED: 9,
} as const;

/** How an `opa_number_t` holds its number (value.h `OPA_NUMBER_REPR_INT`, `_REF`): a 64-bit integer, or its text. */
export const NUMBER_REPR = { INT: 1, REF: 2 } as const;

/**
 * Struct sizes and field offsets in bytes on wasm32 (pointers and `size_t` 4 bytes, `long long`
 * 8 and 8-aligned), by the C names of value.h. `hdr` is the `opa_value` header, one byte holding
 * the type tag; a union is one field (`opa_number_t.v`), its members at its offset.
 */
export const STRUCTS = {
  opa_value: { size: 1, type: 0 },
  opa_boolean_t: { size: 2, hdr: 0, v: 1 },
  /** `repr` says which of the union `v` holds: `long long i`, or `opa_number_ref_t ref`. */
  opa_number_t: { size: 24, hdr: 0, repr: 1, v: 8 },
  opa_number_ref_t: { size: 12, s: 0, len: 4, free: 8 },
  opa_string_t: { size: 12, hdr: 0, free: 1, len: 4, v: 8 },
  opa_array_elem_t: { size: 8, i: 0, v: 4 },
  opa_array_t: { size: 16, hdr: 0, elems: 4, len: 8, cap: 12 },
  opa_object_elem_t: { size: 12, k: 0, v: 4, next: 8 },
  /** `n` is the number of buckets, `len` the number of elements. */
  opa_object_t: { size: 16, hdr: 0, buckets: 4, n: 8, len: 12 },
  opa_set_elem_t: { size: 8, v: 0, next: 4 },
  opa_set_t: { size: 16, hdr: 0, buckets: 4, n: 8, len: 12 },
} as const;

export const {
  opa_value: VALUE,
  opa_boolean_t: BOOLEAN_T,
  opa_number_t: NUMBER_T,
  opa_number_ref_t: NUMBER_REF_T,
  opa_string_t: STRING_T,
  opa_array_elem_t: ARRAY_ELEM_T,
  opa_array_t: ARRAY_T,
  opa_object_elem_t: OBJECT_ELEM_T,
  opa_object_t: OBJECT_T,
  opa_set_elem_t: SET_ELEM_T,
  opa_set_t: SET_T,
} = STRUCTS;

/**
 * What OPA's compiler writes into one data segment for a policy's constants
 * (`compileStringsAndBooleans`): each constant string's bytes, NUL-terminated, one after the
 * other; then the two interned booleans, true then false (`opa_boolean_t` with the tag
 * `BOOLEAN_INTERNED`); then one `opa_string_t` per string in the same order, its tag written as
 * a 16-bit field (so `free` is 0), its length and the address of its bytes.
 */
export const INTERNED = {
  /** The booleans' bytes, as the compiler writes them. */
  booleans: [TYPE.BOOLEAN_INTERNED, 1, TYPE.BOOLEAN_INTERNED, 0],
  /** Each constant string's struct. */
  string: STRING_T,
} as const;

/** json.h: the token of a string without escapes or bytes past '~', whose bytes are the string's. */
export const JSON_TOKEN_STRING = 6;

/** value.c `fnv1a32`: a string's hash starts at FNV32_INIT, and per byte multiplies by the prime, then xors the byte. */
export const FNV32 = { init: 0x811c9dc5, prime: 0x01000193 } as const;

/** A WebAssembly value type of a runtime function's parameter or result. */
export type WasmType = "i32" | "i64" | "none";

/**
 * The runtime functions the build's rewrites replace or front, with the wasm32 signatures their C
 * prototypes give them (value.h, json.c, memoize.h, malloc.h): pointers, `size_t`, `int` and
 * `int32_t` are i32, `long long` is i64. A module whose function has another signature is refused
 * by the rewrite rather than rewritten blind.
 */
export const RUNTIME_FUNCTIONS = {
  opa_value_hash: [["i32"], "i32"],
  opa_value_compare: [["i32", "i32"], "i32"],
  opa_value_get: [["i32", "i32"], "i32"],
  opa_value_iter: [["i32", "i32"], "i32"],
  opa_json_parse_string: [["i32", "i32", "i32"], "i32"],
  opa_number_ref_allocated: [["i32", "i32"], "i32"],
  opa_number_int: [["i64"], "i32"],
  opa_malloc: [["i32"], "i32"],
  opa_memoize_init: [[], "none"],
  opa_memoize_push: [[], "none"],
  opa_memoize_pop: [[], "none"],
  opa_memoize_insert: [["i32", "i32"], "none"],
  opa_memoize_get: [["i32"], "i32"],
} as const satisfies Record<string, readonly [readonly WasmType[], WasmType]>;

export type RuntimeFunction = keyof typeof RUNTIME_FUNCTIONS;
