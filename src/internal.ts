/**
 * `stepup/internal`: the public entry point plus the parts benchmarks and diagnostics reach for
 * (the in-process engine class, OPA's wasm host). No promise of stability: these change with the
 * pinned OPA and with the fast paths.
 */
export * from "./index.js";
export { WasmEngine } from "./engine/inprocess/wasm.js";
export { OpaInstance, type HostOptions, type Builtin } from "./wasm/host.js";
export { render, type RenderContext } from "./decision/render.js";
export { conclude, concludeAsync } from "./decision/conclude.js";
export { readArchive, writeArchive } from "./bundle/archive.js";
export { hashBundleFile } from "./bundle/hash.js";
export { authorizationService, decodeCheckRequest, type CheckRequestObject } from "./enforcement/envoy/protos.js";
export { serialize } from "./audit/logger.js";
