/** stepup: step-up authentication decisions as code. The package's one entry point. */
export { Stepup, type StepupOptions, type StepupLoadOptions } from "./stepup.js";
export { parseInput, parseInputText } from "./input/validate.js";
export { loadBundle, readBundle, bundleFromFiles, type Bundle, type LoadOptions } from "./bundle/load.js";
export { buildBundle, type BuildOptions, type BuildResult } from "./bundle/build.js";
export { readArchive, writeArchive, DEFAULT_LIMITS, type ArchiveLimits, type BundleFiles } from "./bundle/archive.js";
export { signFiles, signArchive, type SignOptions } from "./bundle/sign.js";
export { BundleVerifier, type Verification } from "./bundle/verify.js";
export { hashBundleFile } from "./bundle/hash.js";
export { BundleClient, type BundleClientOptions, type BundleClientStatus } from "./bundle/client.js";
export type { BundleEvent, FailureStage } from "./bundle/events.js";
export { serveBundles, type BundleServer, type ServeOptions } from "./bundle/serve.js";
export {
  SIGNING_ALGORITHMS,
  VerificationConfigSchema,
  type SigningAlgorithm,
  type VerificationConfig,
  type VerificationKey,
} from "./contracts/signing.js";
export { BundleClientConfigSchema, type BundleClientConfig } from "./contracts/bundle-client.js";
export { WasmEngine } from "./engine/wasm.js";
export type { Engine } from "./engine/engine.js";
export { render, type RenderContext } from "./decision/render.js";
export { conclude, concludeAsync, type DecisionEvent } from "./decision/conclude.js";
export { explain, describeRequirement } from "./decision/explain.js";
export { InputSchema, type Input, type InputDraft } from "./contracts/input.js";
export {
  DecisionSchema,
  VerdictSchema,
  type Decision,
  type Verdict,
  type Requirement,
  type Outcome,
} from "./contracts/decision.js";
export { jsonSchemas } from "./contracts/json-schema.js";
export { loadScenarios, mismatches } from "./scenarios/catalog.js";
export type { Scenario } from "./contracts/scenario.js";
export * from "./errors.js";
