/**
 * stepup: step-up authentication decisions as code. The package's public entry point: the facade,
 * the contracts and their types, the errors, the signals, the integrations, the fleet client and
 * audit. What only benchmarks and tests reach for (OPA's wasm host, the engine classes) is in
 * `stepup/internal`, which makes no promise of stability. etc/stepup.api.md records this surface;
 * `make lint` fails when it changes until the report is regenerated (`make api`).
 */
export { Stepup, logRollout, type StepupOptions, type StepupLoadOptions, type RolloutOptions, type Unchecked } from "./stepup.js";
export { defaultBundlePath } from "./paths.js";
export { RemoteStepup, type RemoteStepupOptions } from "./remote-stepup.js";
export { parseInput, parseInputText } from "./input/validate.js";
export { loadBundle, readBundle, bundleFromFiles, type Bundle, type LoadOptions } from "./bundle/load.js";
export { buildBundle, type BuildOptions, type BuildResult } from "./bundle/build.js";
export { DEFAULT_LIMITS, type ArchiveLimits, type BundleFiles } from "./bundle/archive.js";
export { signFiles, signArchive, type SignOptions } from "./bundle/sign.js";
export { BundleVerifier, type Verification } from "./bundle/verify.js";
export { BundleClient, type BundleClientOptions, type BundleClientStatus } from "./fleet/client.js";
export type { BundleEvent, FailureStage } from "./fleet/events.js";
export { serveBundles, type BundleServer, type ServeOptions } from "./fleet/serve.js";
export {
  SIGNING_ALGORITHMS,
  VerificationConfigSchema,
  VerificationKeySchema,
  type SigningAlgorithm,
  type VerificationConfig,
  type VerificationKey,
} from "./contracts/signing.js";
export { BundleClientConfigSchema, type BundleClientConfig } from "./contracts/bundle-client.js";
export { RemoteEngine, type RemoteEngineOptions, type Health } from "./engine/remote/remote.js";
export type { SidecarAnswer, SidecarBundle } from "./engine/remote/sidecar-answer.js";
export type { RetryBudgetOptions } from "./engine/remote/retry-budget.js";
export { DecisionPool, type PoolOptions } from "./engine/batch/pool.js";
export type { LinesOptions } from "./engine/batch/ndjson.js";
export type { Engine, AsyncEngine, EngineInfo, TakenDocument } from "./engine/engine.js";
export { FALLBACKS, type EngineEvent, type Fallback } from "./engine/inprocess/fallbacks.js";
export type { DecisionEvent } from "./decision/conclude.js";
export { explain, describeRequirement } from "./decision/explain.js";
export {
  InputSchema,
  type Input,
  type InputDraft,
  type Feature,
} from "./contracts/input.js";
export {
  DecisionSchema,
  VerdictSchema,
  type Decision,
  type Verdict,
  type Requirement,
  type Outcome,
} from "./contracts/decision.js";
export type { Manifest, BundleMetadata } from "./contracts/metadata.js";
export { jsonSchemas } from "./contracts/json-schema.js";
export { loadScenarios, mismatches } from "./scenarios/catalog.js";
export { ScenarioSchema, type Scenario } from "./contracts/scenario.js";
export { buildInput, type InputParts } from "./input/builder.js";
export { Signals, bearerToken, type SignalsOptions, type Collected } from "./signals/collect.js";
export type { RequestFacts, PeerIdentity } from "./signals/request.js";
export { peerCaller, certificateValidity, type WorkloadOptions } from "./signals/workload.js";
export { SessionVerifier, type SessionOptions, type VerifiedCaller, type MissingClaimsReport } from "./signals/session.js";
export { identityProvider, PROFILE_NAMES, type ProfileName, type ProfileChoice } from "./signals/idp/profile.js";
export { sessionOf, mapAcr } from "./signals/idp/claims.js";
export { discover, type ProviderMetadata } from "./signals/discovery.js";
export {
  IdentityProviderProfileSchema,
  ProfilePatchSchema,
  type IdentityProviderProfile,
  type ProfilePatch,
  type TokenShape,
  type SessionClaim,
  type TokenKind,
  TokenShapeSchema,
} from "./contracts/identity-provider.js";
export { PostureVerifier, DEFAULT_POSTURE_CLAIMS, UNATTESTED, type PostureOptions, type Posture } from "./signals/device.js";
export type { KeySource, RemoteKeyOptions } from "./signals/keys.js";
export { NetworkSignals, type NetworkOptions } from "./signals/network.js";
export { loadList, parseList, type ListSource } from "./signals/ip-lists.js";
export { clientAddress, type ClientAddress } from "./signals/client-address.js";
export { normalizeIp } from "./contracts/address.js";
export { AddressSet } from "./signals/ip.js";
export { GeoLocator, defaultCountryDb, type GeoOptions, type Place } from "./signals/geo.js";
export { TargetMap, DEFAULT_ACTIONS, type RouteRule, type TargetOptions, type TargetOverride } from "./signals/target.js";
export {
  DEFAULT_WINDOWS,
  type BehaviorStore,
  type BehaviorWindows,
  type LoginEvent,
  type Observation,
  type Probe,
  type Features,
  type Place as LoginPlace,
} from "./signals/behavior/store.js";
export { MemoryBehaviorStore, type MemoryStoreOptions } from "./signals/behavior/memory.js";
export { applyRecord, type BehaviorRecord } from "./signals/behavior/records.js";
export { RedisBehaviorStore, FAIL_FAST, type RedisStoreOptions } from "./signals/behavior/redis.js";
export { behaviorOf, featuresOf, type FeatureFacts } from "./signals/behavior/derive.js";
export { familiarityOf, DEFAULT_FAMILIARITY, type FamiliarityModel } from "./signals/behavior/familiarity.js";
export { Guard, type GuardOptions, type GuardResult } from "./enforcement/guard.js";
export { answerDecision, answerInvalidToken, type HttpAnswer } from "./enforcement/answer.js";
export { stepUpChallenge, invalidTokenChallenge, describeGap, type ChallengeOptions } from "./enforcement/challenge.js";
export { stepupExpress, stepupExpressErrors, expressFacts } from "./enforcement/express.js";
export { stepupFastify, fastifyFacts, type StepupFastifyOptions } from "./enforcement/fastify.js";
export { RelyingParty, type RelyingPartyOptions, type PendingRequest, type Completed } from "./enforcement/oidc/relying-party.js";
export { requirementOf, authorizationParameters, assess, type StepUpRequirement, type Assessment } from "./enforcement/oidc/requirement.js";
export { StepUpLogin, type StepUpLoginOptions, type BrowserRequest, type BrowserAnswer } from "./enforcement/oidc/browser.js";
export { stepUpLoginExpress } from "./enforcement/oidc/express.js";
export { stepUpLoginFastify, type StepUpLoginFastifyOptions } from "./enforcement/oidc/fastify.js";
export { StepUpFetch, challengeRequirement, type StepUpFetchOptions, type StepUpFetchInit } from "./enforcement/oidc/api-client.js";
export { logStepUpEvent, type StepUpEvent, type StepUpEventType } from "./enforcement/oidc/events.js";
export { ExtAuthzServer, type ExtAuthzOptions, type FromSettingsOptions, type FailureMode } from "./enforcement/envoy/server.js";
export { parseEnvoySettings, loadEnvoySettings, envoySignalsOptions } from "./enforcement/envoy/settings.js";
export { EnvoySettingsSchema, EnvoyRouteSchema, JWT_ALGORITHMS, type EnvoySettings, type EnvoyRoute } from "./contracts/envoy.js";
export { BundleStore } from "./fleet/store.js";
export { DecisionLogger, type DecisionLoggerOptions, type DropReport } from "./audit/logger.js";
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
  type MaskedCounts,
  type ReplayExample,
} from "./audit/replay.js";
export { verifyLogs, whatIfLogs, type ReplayOptions } from "./audit/replay-pool.js";
export {
  DecisionLogEventSchema,
  MaskRuleSchema,
  DropRuleSchema,
  ShadowOutcomeSchema,
  RolloutRecordSchema,
  type DecisionLogEvent,
  type MaskRule,
  type DropRule,
  type ShadowOutcome,
  type RolloutRecord,
} from "./contracts/decision-log.js";
export type { TraceIds } from "./tracing.js";
export type { ShadowOptions } from "./engine/shadow.js";
export * from "./errors.js";
