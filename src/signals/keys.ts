/**
 * Key sets for verifying tokens and posture statements: a JWKS file (read once at start), a JWKS
 * URL (fetched and cached by jose, with a timeout), the `jwks_uri` an issuer's OpenID Connect
 * discovery document names, or a key set given inline. Remote key sets are cached and fetched
 * again when a token names a key id they lack (after a cooldown, so unknown ids cannot flood the
 * provider).
 */
import { readFile } from "node:fs/promises";
import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";
import { KeysUnavailableError } from "../errors.js";
import { jose } from "../lazy.js";
import { discover } from "./discovery.js";

/** How a remote key set is fetched: timeout, how long keys are kept, and the least time between two fetches for an unknown key id. */
export interface RemoteKeyOptions {
  readonly timeoutMs?: number;
  readonly cacheMaxAgeMs?: number;
  readonly cooldownMs?: number;
}

export type KeySource =
  | { readonly jwksFile: string }
  | ({ readonly jwksUrl: string } & RemoteKeyOptions)
  | ({ readonly issuer: string } & RemoteKeyOptions)
  | { readonly jwks: JSONWebKeySet };

export interface Keys {
  readonly getKey: JWTVerifyGetKey;
  /** Where the keys come from, for messages (a path or URL, never key material). */
  readonly source: string;
}

/**
 * Resolves a key source; a file that cannot be read or parsed is a `KeysUnavailableError`, an
 * issuer whose discovery fails an `IdpDiscoveryError`.
 */
export async function loadKeys(source: KeySource): Promise<Keys> {
  const { createLocalJWKSet, createRemoteJWKSet } = await jose();
  const localSet = (jwks: JSONWebKeySet, from: string): JWTVerifyGetKey => {
    try {
      return createLocalJWKSet(jwks);
    } catch (err) {
      throw new KeysUnavailableError(from, { cause: err });
    }
  };
  if ("jwks" in source) return { getKey: localSet(source.jwks, "inline JWKS"), source: "inline JWKS" };
  if ("jwksFile" in source) {
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(await readFile(source.jwksFile, "utf8")) as JSONWebKeySet;
    } catch (err) {
      throw new KeysUnavailableError(source.jwksFile, { cause: err });
    }
    return { getKey: localSet(jwks, source.jwksFile), source: source.jwksFile };
  }
  const href = "issuer" in source ? (await discover(source.issuer, { timeoutMs: source.timeoutMs })).jwks_uri : source.jwksUrl;
  let url: URL;
  try {
    url = new URL(href);
  } catch (err) {
    throw new KeysUnavailableError(href, { cause: err });
  }
  const getKey = createRemoteJWKSet(url, {
    timeoutDuration: source.timeoutMs ?? 2_000,
    cacheMaxAge: source.cacheMaxAgeMs ?? 10 * 60_000,
    cooldownDuration: source.cooldownMs ?? 30_000,
  });
  return { getKey, source: url.href };
}
