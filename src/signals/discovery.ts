/**
 * OpenID Connect Discovery 1.0 for the verifying side: from an issuer to its metadata
 * (`/.well-known/openid-configuration`), fetched once with a timeout and remembered per issuer.
 * The document must name exactly that issuer (section 4.3, so a document from elsewhere cannot
 * substitute its keys) and a `jwks_uri` over https, or http on loopback for tests and sidecars.
 */
import * as z from "zod";
import { IdpDiscoveryError } from "../errors.js";
import { lazySchema } from "../contracts/lazy-schema.js";

export interface ProviderMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly authorization_endpoint?: string;
  readonly acr_values_supported?: readonly string[];
  readonly claims_parameter_supported?: boolean;
}

const MetadataSchema = lazySchema(() => z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: z.string().min(1),
  authorization_endpoint: z.string().optional(),
  acr_values_supported: z.array(z.string()).optional(),
  claims_parameter_supported: z.boolean().optional(),
}));

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);
const remembered = new Map<string, Promise<ProviderMetadata>>();

/** The discovery document's URL for an issuer (OIDC Discovery 4.1: the issuer, less a trailing slash, then the well-known path). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
}

/** Whether a URL may carry keys or metadata: https, or http to this machine. */
export function isTrustedTransport(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

/**
 * Fetches (once per issuer, until it fails) and checks an issuer's metadata.
 * @example
 * const { jwks_uri } = await discover("https://idp.example/realms/corp");
 */
export function discover(issuer: string, options: { timeoutMs?: number } = {}): Promise<ProviderMetadata> {
  const known = remembered.get(issuer);
  if (known) return known;
  const pending = fetchMetadata(issuer, options.timeoutMs ?? 5_000);
  remembered.set(issuer, pending);
  pending.catch(() => remembered.delete(issuer));
  return pending;
}

async function fetchMetadata(issuer: string, timeoutMs: number): Promise<ProviderMetadata> {
  let url: URL;
  try {
    url = discoveryUrl(issuer);
  } catch (err) {
    throw new IdpDiscoveryError(issuer, "the issuer is not a URL", { cause: err });
  }
  if (!isTrustedTransport(url)) throw new IdpDiscoveryError(issuer, "the issuer is neither https nor http on loopback");
  let body: unknown;
  try {
    const res = await fetch(url, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new IdpDiscoveryError(issuer, `${url.href} did not answer with a document: ${(err as Error).message}`, { cause: err });
  }
  const parsed = MetadataSchema.safeParse(body);
  if (!parsed.success) throw new IdpDiscoveryError(issuer, "the document lacks issuer or jwks_uri");
  if (parsed.data.issuer !== issuer) throw new IdpDiscoveryError(issuer, `the document names another issuer (${parsed.data.issuer.slice(0, 200)})`);
  let jwks: URL;
  try {
    jwks = new URL(parsed.data.jwks_uri);
  } catch (err) {
    throw new IdpDiscoveryError(issuer, "jwks_uri is not a URL", { cause: err });
  }
  if (!isTrustedTransport(jwks)) throw new IdpDiscoveryError(issuer, "jwks_uri is neither https nor http on loopback");
  return parsed.data;
}
