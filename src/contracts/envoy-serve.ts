/**
 * The configuration of `stepup envoy serve`: a JSON file (`--config`) with the same settings as
 * the command's flags, by their long names in camelCase; a flag given on the command line wins.
 */
import { z } from "zod";
import { lazySchema } from "./lazy-schema.js";
import { SIGNING_ALGORITHMS } from "./signing.js";

const port = () => z.number().int().min(0).max(65_535);
const ms = () => z.number().int().positive();

export const EnvoyServeConfigSchema = lazySchema(() => z.strictObject({
  /** The edge settings (the data.json of opa-envoy-plugin's stepup_envoy bundle). */
  settings: z.string().min(1).optional(),
  /** A bundle file or folder; or `bundleUrl` to poll one. */
  bundle: z.string().min(1).optional(),
  /** Poll the bundle from this URL (OPA's bundle protocol: ETag, 304, long polling). */
  bundleUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** A file holding the bundle server's bearer token. */
  bundleTokenFile: z.string().min(1).optional(),
  /** PEM files of the keys that may sign bundles, by key id (`--verification-key id=file`). */
  verificationKeys: z.record(z.string().min(1), z.string().min(1)).optional(),
  signingAlg: z.enum(SIGNING_ALGORITHMS).optional(),
  /** The scope a bundle's signature must carry. */
  scope: z.string().min(1).optional(),
  /** Accept unsigned bundles from `bundleUrl` (development only). */
  allowUnsigned: z.boolean().optional(),
  pollMinMs: ms().optional(),
  pollMaxMs: ms().optional(),
  /** Where the last-known-good bundle is kept, so a restart serves without the server. */
  persistDir: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: port().optional(),
  /** TLS for the gRPC listener: certificate chain and private key (PEM files). */
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  /** mTLS: only clients with a certificate from this CA (PEM file) may call. */
  tlsClientCa: z.string().min(1).optional(),
  /** Decision logs: a file (rotated) and/or an HTTP service in OPA's decision-log protocol. */
  logFile: z.string().min(1).optional(),
  logUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Prometheus `/metrics` on its own HTTP listener. */
  metricsHost: z.string().min(1).optional(),
  metricsPort: port().optional(),
  redis: z.string().min(1).optional(),
  memoryStore: z.boolean().optional(),
  cityDb: z.string().min(1).optional(),
  asnDb: z.string().min(1).optional(),
  geo: z.boolean().optional(),
  failureMode: z.enum(["deny", "allow", "error"]).optional(),
  timeout: ms().optional(),
  /** A candidate bundle decided in report-only mode beside the active one (logged, never enforced). */
  candidate: z.string().min(1).optional(),
  /** Processes serving on the same port (node:cluster), or `auto`: one per core. */
  workers: z.union([z.literal("auto"), z.coerce.number().int().min(1).max(256)]).optional(),
}));

export type EnvoyServeConfig = z.output<typeof EnvoyServeConfigSchema>;
