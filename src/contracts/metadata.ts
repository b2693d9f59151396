/**
 * The bundle's code catalog: for every code the policy can return, a title, a message and the
 * control references it serves. It is read from the rules' METADATA annotations at build time and
 * carried in the bundle's .manifest (`metadata.stepup`), so text lives next to the rule that
 * produces the code and the policy itself returns codes only.
 */
import * as z from "zod";
import { Code } from "./decision.js";
import { lazySchema } from "./lazy-schema.js";

/** The decision document's entrypoint: what the manifest names and every runtime serves. */
export const DECISION_ENTRYPOINT = "stepup/decision";

/**
 * The same decision packed into an array, compiled into the same module: what the in-process
 * engine evaluates when the module has it (src/contracts/packed.ts).
 */
export const PACKED_ENTRYPOINT = "stepup/packed";

export const CodeEntry = lazySchema(() => z.strictObject({
  title: z.string().min(1),
  message: z.string().min(1),
  controls: z.array(z.string()),
}));

/**
 * stepup's part of the manifest. The wasm module is named here rather than in the manifest's own
 * `wasm` list, so that OPA (which has no wasm engine in its static build) evaluates the bundle's
 * Rego while the SDK evaluates its wasm: one bundle, every runtime.
 */
export const BundleMetadataSchema = lazySchema(() => z.strictObject({
  policy_version: z.string(),
  wasm: z.strictObject({
    entrypoint: z.string(),
    module: z.string(),
    /** The OPA that compiled the module, as `opa version` prints it (absent in bundles built before it was recorded). */
    opa_version: z.string().optional(),
    /** What optimized OPA's module after `opa build`, e.g. "binaryen 132.0.0 -O2" (absent: shipped as OPA built it). */
    optimizer: z.string().optional(),
    /** The rewrites of OPA's runtime applied before the optimizer (src/wasm/rewrite/names.ts); absent or empty: none. */
    rewrites: z.array(z.string()).optional(),
  }),
  codes: z.record(Code, CodeEntry),
}));

export const ManifestSchema = lazySchema(() => z.looseObject({
  revision: z.string().default(""),
  roots: z.array(z.string()).optional(),
  wasm: z
    .array(z.looseObject({ entrypoint: z.string(), module: z.string() }))
    .optional(),
  metadata: z.looseObject({ stepup: BundleMetadataSchema.optional() }).optional(),
}));

export type CodeEntry = z.output<typeof CodeEntry>;
export type BundleMetadata = z.output<typeof BundleMetadataSchema>;
export type Manifest = z.output<typeof ManifestSchema>;
