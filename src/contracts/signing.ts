/**
 * Bundle signing, in OPA's format: `.signatures.json` holds one JWT whose payload lists every
 * file of the bundle with its digest; the verification configuration mirrors OPA's `keys` and
 * `bundles.<name>.signing` settings (key id, scope, files excluded from verification).
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.js";

/** The JWS algorithms stepup signs and verifies bundles with (OPA's default is RS256). */
export const SIGNING_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** One public key, as OPA's `keys.<id>`: PEM text, its algorithm and an optional scope. */
export const VerificationKeySchema = lazySchema(() => z.strictObject({
  key: z.string().min(1),
  algorithm: z.enum(SIGNING_ALGORITHMS).default("RS256"),
  scope: z.string().optional(),
}));

/**
 * How to verify a bundle's signature, as OPA's `bundles.<name>.signing` with its `keys`:
 * `keyId` overrides the JWT's `kid`; `scope` overrides the key's; `exclude` lists glob patterns of
 * files left out of verification.
 */
export const VerificationConfigSchema = lazySchema(() => z.strictObject({
  keys: z.record(z.string().min(1), VerificationKeySchema).refine((keys) => Object.keys(keys).length > 0, {
    message: "needs at least one key",
  }),
  keyId: z.string().min(1).optional(),
  scope: z.string().optional(),
  exclude: z.array(z.string().min(1)).default([]),
}));

/** The `.signatures.json` file. */
export const SignaturesFileSchema = lazySchema(() => z.looseObject({
  signatures: z.array(z.string()).default([]),
  plugin: z.string().optional(),
}));

/** One file in a signature's payload. */
export const SignedFileSchema = lazySchema(() => z.looseObject({
  name: z.string(),
  hash: z.string(),
  algorithm: z.string(),
}));

/** The JWT payload; `keyid` is OPA's deprecated place for the key id (the header's `kid` wins). */
export const SignaturePayloadSchema = lazySchema(() => z.looseObject({
  files: z.array(SignedFileSchema),
  keyid: z.string().optional(),
  scope: z.string().optional(),
  iat: z.number().int().optional(),
  iss: z.string().optional(),
}));

export type VerificationKey = z.input<typeof VerificationKeySchema>;
export type VerificationConfig = z.input<typeof VerificationConfigSchema>;
export type SignaturesFile = z.output<typeof SignaturesFileSchema>;
export type SignedFile = z.output<typeof SignedFileSchema>;
export type SignaturePayload = z.output<typeof SignaturePayloadSchema>;
