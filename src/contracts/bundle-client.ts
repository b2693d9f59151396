/**
 * A bundle client's configuration: where the bundle is, how to verify it, how often to poll, where
 * to keep the last-known-good copy. The names follow OPA's `services`/`bundles` settings where
 * they have a counterpart (OPA's delays are in seconds; these are in milliseconds).
 */
import * as z from "zod";
import { VerificationConfigSchema } from "./signing.js";
import { lazySchema } from "./lazy-schema.js";

const ms = lazySchema(() => z.number().int().positive());

export const PollingSchema = lazySchema(() => z
  .strictObject({
    /** Shortest delay between two polls (OPA's `min_delay_seconds`, default 60 s). */
    minDelayMs: ms.default(60_000),
    /** Longest delay between two polls; also the cap of the retry backoff (OPA: 120 s). */
    maxDelayMs: ms.default(120_000),
    /** First retry delay after a failure; later ones grow by 1.6× up to `maxDelayMs`. */
    retryBaseMs: ms.default(250),
    /** Long polling: how long the server may hold a request (OPA's `long_polling_timeout_seconds`). */
    longPollingTimeoutSeconds: z.number().int().positive().optional(),
  })
  .refine((p) => p.maxDelayMs >= p.minDelayMs, { message: "maxDelayMs must not be below minDelayMs", path: ["maxDelayMs"] }));

export const LimitsSchema = lazySchema(() => z.strictObject({
  maxCompressedBytes: z.number().int().positive().optional(),
  maxUncompressedBytes: z.number().int().positive().optional(),
  maxFiles: z.number().int().positive().optional(),
}));

export const BundleClientConfigSchema = lazySchema(() => z
  .strictObject({
    /** The bundle's URL (http or https), e.g. `https://bundles.example.com/stepup/bundle.tar.gz`. */
    url: z.url({ protocol: /^https?$/ }),
    /** How to verify the signature; required unless `allowUnsigned` is set. */
    verification: VerificationConfigSchema.optional(),
    /** Accept bundles without a signature (development only). */
    allowUnsigned: z.boolean().default(false),
    /** A bearer token for the bundle server (OPA's `credentials.bearer.token`). */
    token: z.string().min(1).optional(),
    polling: PollingSchema.default({ minDelayMs: 60_000, maxDelayMs: 120_000, retryBaseMs: 250 }),
    /** A folder for the last-known-good bundle (OPA's `persist`); nothing else is written there. */
    persistDir: z.string().min(1).optional(),
    limits: LimitsSchema.default({}),
    /**
     * The most `start` takes, from the call: it asks the server until then, the saved bundle
     * compiling meanwhile, and serves that copy at once when the server gave nothing.
     */
    startTimeoutMs: ms.default(10_000),
    /** The most one request may take, connection, headers and body together; added to the long-polling wait. */
    requestTimeoutMs: ms.default(10_000),
    /**
     * A candidate channel: a second URL, polled and verified the same way, whose bundle the SDK
     * holds as the candidate of a report-only rollout (decided beside the active one, never
     * enforced). A 404 there means no candidate is published: report-only mode ends.
     */
    candidateUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((c) => c.verification !== undefined || c.allowUnsigned, {
    message: "configure verification keys, or set allowUnsigned: true to accept unsigned bundles",
    path: ["verification"],
  }));

export type BundleClientConfig = z.input<typeof BundleClientConfigSchema>;
export type ResolvedBundleClientConfig = z.output<typeof BundleClientConfigSchema>;
