/**
 * Key sets for verifying tokens and posture statements: a JWKS file (read once at start), a JWKS
 * URL (fetched and cached by jose, with a timeout), or a key set given inline.
 */
import { readFile } from "node:fs/promises";
import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";
import { KeysUnavailableError } from "../errors.js";
import { jose } from "../lazy.js";

export type KeySource =
  | { readonly jwksFile: string }
  | { readonly jwksUrl: string; readonly timeoutMs?: number; readonly cacheMaxAgeMs?: number }
  | { readonly jwks: JSONWebKeySet };

export interface Keys {
  readonly getKey: JWTVerifyGetKey;
  /** Where the keys come from, for messages (a path or URL, never key material). */
  readonly source: string;
}

/** Resolves a key source; a file that cannot be read or parsed is a `KeysUnavailableError`. */
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
  let url: URL;
  try {
    url = new URL(source.jwksUrl);
  } catch (err) {
    throw new KeysUnavailableError(source.jwksUrl, { cause: err });
  }
  const getKey = createRemoteJWKSet(url, {
    timeoutDuration: source.timeoutMs ?? 2_000,
    cacheMaxAge: source.cacheMaxAgeMs ?? 10 * 60_000,
  });
  return { getKey, source: url.href };
}
