/**
 * The optional integrations' dependencies, loaded the first time an integration uses them instead
 * of when the SDK is imported: a service that only decides in-process never loads them. Importing
 * the SDK took ~0.5 s with them on the benchmark machine and ~0.2 s without (the cold start
 * suite); test/sdk-import.test.ts keeps them out of the library's static imports.
 */
import { createRequire } from "node:module";
import type { AxiosStatic } from "axios";

const require = createRequire(import.meta.url);

/**
 * A CommonJS package (or a dual package's CommonJS build), required on the first call: `require`
 * is synchronous, so constructors that use the package stay synchronous.
 */
function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}

/** An ES module, imported on the first call, for packages used only on asynchronous paths. */
function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/** The sidecar client and bundle polling. */
export const axios = lazyRequire<AxiosStatic>("axios");
/** The Redis behaviour store. */
export const ioredis = lazyRequire<typeof import("ioredis")>("ioredis");
/** The Envoy ext_authz server: gRPC, its health service, and Envoy's protos. */
export const grpc = lazyRequire<typeof import("@grpc/grpc-js")>("@grpc/grpc-js");
export const grpcHealth = lazyRequire<typeof import("grpc-health-check")>("grpc-health-check");
export const protobuf = lazyRequire<typeof import("protobufjs")>("protobufjs");
/** Prometheus metrics. */
export const promClient = lazyRequire<typeof import("prom-client")>("prom-client");
/** Geography from mmdb files. */
export const maxmind = lazyRequire<typeof import("maxmind").default>("maxmind");
/** Route mapping of HTTP requests to targets. */
export const pathToRegexp = lazyRequire<typeof import("path-to-regexp")>("path-to-regexp");
/** Token, key-set and bundle signatures (ES modules only). */
export const jose = lazyImport(() => import("jose"));
/** Browser families from User-Agent headers, for the behaviour profile. */
export const bowser = lazyRequire<typeof import("bowser")>("bowser");
/** The relying party's OpenID Connect client (ES modules only). */
export const openidClient = lazyImport(() => import("openid-client"));
/** Glob patterns of files left out of signature verification (OPA's `exclude_files`). */
export const minimatch = lazyRequire<typeof import("minimatch")>("minimatch");
/**
 * Node's own modules that only some integrations use: each costs a fresh process tens of
 * milliseconds to load with the modules it pulls in (https with TLS, child_process), which a
 * service that only decides would otherwise pay on every start.
 */
export const nodeHttp = lazyRequire<typeof import("node:http")>("node:http");
export const nodeHttps = lazyRequire<typeof import("node:https")>("node:https");
export const childProcess = lazyRequire<typeof import("node:child_process")>("node:child_process");
export const workerThreads = lazyRequire<typeof import("node:worker_threads")>("node:worker_threads");
/** Address parsing (src/contracts/address.ts), used once signals are collected. */
export const nodeNet = lazyRequire<typeof import("node:net")>("node:net");
/** OpenTelemetry's API, once an application has registered a tracer provider (src/tracing.ts). */
export const otelApi = lazyRequire<typeof import("@opentelemetry/api")>("@opentelemetry/api");
/** Cookies of the browser step-up login. */
export const cookie = lazyRequire<typeof import("cookie")>("cookie");
