/** stepup: step-up authentication decisions as code. The package's one entry point. */
export { Stepup, type StepupOptions } from "./stepup.js";
export { parseInput, parseInputText } from "./input/validate.js";
export { loadBundle, bundleFromFiles, type Bundle } from "./bundle/load.js";
export { buildBundle, type BuildOptions, type BuildResult } from "./bundle/build.js";
export { WasmEngine } from "./engine/wasm.js";
export { DecisionPool, type PoolOptions } from "./engine/pool.js";
export { OpaInstance, type HostOptions, type Builtin } from "./engine/host.js";
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
