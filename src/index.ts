/** stepup: step-up authentication decisions as code. The package's one entry point. */
export { Stepup, type StepupOptions } from "./stepup.js";
export { RemoteStepup, type RemoteStepupOptions } from "./remote-stepup.js";
export { parseInput, parseInputText } from "./input/validate.js";
export { loadBundle, bundleFromFiles, type Bundle } from "./bundle/load.js";
export { buildBundle, type BuildOptions, type BuildResult } from "./bundle/build.js";
export { WasmEngine } from "./engine/wasm.js";
export { RemoteEngine, type RemoteEngineOptions, type Health } from "./engine/remote.js";
export type { SidecarAnswer, SidecarBundle } from "./engine/sidecar-answer.js";
export type { RetryBudgetOptions } from "./engine/retry-budget.js";
export type { Engine, AsyncEngine } from "./engine/engine.js";
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
