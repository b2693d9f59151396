/**
 * Dependencies of the optional integrations, loaded the first time they are used instead of when
 * the SDK is imported: a service that only decides in-process never loads them. They are the
 * sidecar client, bundle polling and the HTTP log sink (axios), the Redis store (ioredis), the
 * Envoy server (gRPC, protobufjs), metrics (prom-client), geography (maxmind), route mapping
 * (path-to-regexp), the log file (rotating-file-stream), and token and bundle signatures (jose).
 * Importing the SDK took ~0.5 s with them on the benchmark machine and ~0.25 s without (the cold
 * start suite).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * A CommonJS package (or a dual package's CommonJS build), required on the first call: `require`
 * is synchronous, so constructors that use the package stay synchronous.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}

/** An ES module, imported on the first call, for packages used only on asynchronous paths. */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
