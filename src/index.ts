/** stepup: step-up authentication decisions as code. The package's one entry point. */
export { Stepup, type StepupOptions } from "./stepup.js";
export { parseInput, parseInputText } from "./input/validate.js";
export { loadBundle, bundleFromFiles, type Bundle } from "./bundle/load.js";
export { buildBundle, type BuildOptions, type BuildResult } from "./bundle/build.js";
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
export { BundleStore } from "./bundle/store.js";
export { DecisionLogger, serialize, type DecisionLoggerOptions } from "./audit/logger.js";
export { compileMask, truncateIp, type Masker } from "./audit/mask.js";
export { FileSink, type FileSinkOptions } from "./audit/sinks/file.js";
export { HttpSink, type HttpSinkOptions, type HttpSinkStats } from "./audit/sinks/http.js";
export { ConsoleSink, type ConsoleSinkOptions } from "./audit/sinks/console.js";
export type { Sink, DropReason, DropListener } from "./audit/sink.js";
export { StepupMetrics, type MetricsOptions, type MetricsServer } from "./audit/metrics.js";
export { reviewRecords, logReview, type ReviewRecord } from "./audit/review.js";
export { readLogEvents } from "./audit/read-log.js";
export {
  verify,
  whatIf,
  RevisionIndex,
  type RevisionSource,
  type VerifyReport,
  type WhatIfReport,
  type Transition,
} from "./audit/replay.js";
export {
  DecisionLogEventSchema,
  MaskRuleSchema,
  DropRuleSchema,
  type DecisionLogEvent,
  type MaskRule,
  type DropRule,
} from "./contracts/decision-log.js";
export * from "./errors.js";
