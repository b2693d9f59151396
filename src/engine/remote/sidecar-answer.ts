/**
 * Reading what OPA's data API returns: a decision with its provenance, and the list of activated
 * bundles with their manifests. Anything else is an `EngineBadResponseError`, never a guess.
 */
import * as z from "zod";
import { ManifestSchema, type BundleMetadata } from "../../contracts/metadata.js";
import { EngineBadResponseError } from "../../errors.js";
import { lazySchema } from "../../contracts/lazy-schema.js";

/** One decision as the sidecar gave it. */
export interface SidecarAnswer {
  /** The decision document, untrusted until validated; undefined when the policy gave none. */
  readonly result: unknown;
  /** The revision of every bundle the sidecar serves, by bundle name. */
  readonly revisions: Readonly<Record<string, string>>;
}

/** A bundle activated in the sidecar. */
export interface SidecarBundle {
  readonly name: string;
  readonly revision: string;
  /** stepup's part of the manifest; absent for bundles stepup did not build. */
  readonly metadata?: BundleMetadata;
}

const DataAnswer = lazySchema(() => z.looseObject({
  result: z.unknown().optional(),
  provenance: z
    .looseObject({ bundles: z.record(z.string(), z.looseObject({ revision: z.string().default("") })).optional() })
    .optional(),
}));

const BundlesAnswer = lazySchema(() => z.looseObject({
  result: z.record(z.string(), z.looseObject({ manifest: z.unknown().optional() })).default({}),
}));

export function readAnswer(text: string, url: string): SidecarAnswer {
  const parsed = DataAnswer.safeParse(parseJson(text, url));
  if (!parsed.success) throw new EngineBadResponseError(url, 200, "not an answer of OPA's data API");
  const bundles = parsed.data.provenance?.bundles ?? {};
  const revisions = Object.fromEntries(Object.entries(bundles).map(([name, b]) => [name, b.revision]));
  return { result: parsed.data.result, revisions };
}

export function readBundles(text: string, url: string): SidecarBundle[] {
  const parsed = BundlesAnswer.safeParse(parseJson(text, url));
  if (!parsed.success) throw new EngineBadResponseError(url, 200, "not a list of bundles from OPA's data API");
  return Object.entries(parsed.data.result)
    .map(([name, { manifest }]) => {
      const read = ManifestSchema.safeParse(manifest ?? {});
      if (!read.success) return { name, revision: "" };
      const metadata = read.data.metadata?.stepup;
      return metadata ? { name, revision: read.data.revision, metadata } : { name, revision: read.data.revision };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function parseJson(text: string, url: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EngineBadResponseError(url, 200, "the body is not JSON");
  }
}
