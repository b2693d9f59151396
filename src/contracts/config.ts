/**
 * The policy's tuning data (data.stepup.config, in rego/stepup/config/data.json): weights, caps,
 * thresholds, requirements, the acr mapping, the app catalog and the exceptions. The bundle build
 * validates it against this schema, so a typo in a weight or an exception fails the build with the
 * field named instead of silently changing decisions.
 *
 * Written with zod's functional API (`zod/mini`), the same schemas and the same JSON Schema: every
 * bundle load builds these (about two hundred) to check the tuning data, and zod's chainable
 * schemas cost several times as much to build, which a cold start paid.
 */
import * as z from "zod/mini";
import { Code, ExceptionKind, Tier } from "./decision.js";
import { CredentialStorage, CredentialType } from "./input.js";
import { lazySchema } from "./lazy-schema.js";
import { validate as meetsConfigSchema } from "./generated/config-check.js";

const Points = lazySchema(() => z.int().check(z.minimum(0), z.maximum(1000)));
const Seconds = lazySchema(() => z.int().check(z.minimum(0)));
const Aal = lazySchema(() => z.int().check(z.minimum(1), z.maximum(3)));
const PerTier = <T extends z.ZodMiniType>(schema: T) =>
  z.strictObject({ low: schema, standard: schema, high: schema, critical: schema });
const Flags = lazySchema(() => z.record(z.string(), z.literal(true)));

const SessionRequirement = lazySchema(() => z.strictObject({ aal: Aal, phishing_resistant: z.boolean(), max_age: Seconds }));
/** The scores at which risk becomes medium, high and critical; they ascend, so the highest one reached names the level. */
const Thresholds = lazySchema(() => z
  .strictObject({ medium: Points, high: Points, critical: Points })
  .check(z.refine(ascending, "thresholds must ascend: medium ≤ high ≤ critical")));

function ascending(t: { readonly medium: number; readonly high: number; readonly critical: number }): boolean {
  return t.medium <= t.high && t.high <= t.critical;
}

const App = lazySchema(() => z.strictObject({
  tier: Tier,
  classification: z.optional(z.enum(["public", "internal", "confidential", "restricted"])),
  description: z.optional(z.string()),
  actions: z.optional(z.record(z.string(), Tier)),
  privileged_actions: z.optional(Flags),
}));

const Exception = lazySchema(() => z.strictObject({
  kind: ExceptionKind,
  subjects: Flags,
  apps: Flags,
  relaxes: z.array(Code).check(z.minLength(1)),
  expires_at: z.int().check(z.minimum(0)),
  approver: z.string().check(z.minLength(1)),
  reason: z.string().check(z.minLength(1)),
}));

export const ConfigSchema = lazySchema(() => z.strictObject({
  policy_version: z.string().check(z.minLength(1)),
  // A tier's rank is its position in names (the policy takes the highest floor by comparing ranks).
  tiers: z.strictObject({
    names: z.tuple([z.literal("low"), z.literal("standard"), z.literal("high"), z.literal("critical")]),
    rank: z.strictObject({ low: z.literal(0), standard: z.literal(1), high: z.literal(2), critical: z.literal(3) }),
  }),
  levels: z.tuple([z.literal("low"), z.literal("medium"), z.literal("high"), z.literal("critical")]),
  weights: z.record(Code, Points),
  caps: z.strictObject({ device: Points, network: Points, geo: Points, behavior: Points }),
  device: z.strictObject({ patch_stale_days: z.int().check(z.minimum(0)), patch_very_stale_days: z.int().check(z.minimum(0)) }),
  behavior: z.strictObject({ failed_attempts: z.int().check(z.minimum(1)), many_failed_attempts: z.int().check(z.minimum(1)) }),
  /** The novelty (hundredths of a bit) from which a context is unfamiliar, and the history below which a subject is new. */
  familiarity: z.strictObject({ novelty: z.int().check(z.minimum(0)), min_history: z.int().check(z.minimum(0)) }),
  geo: z.strictObject({
    max_speed_kmh: z.int().check(z.positive()),
    min_distance_km: z.int().check(z.minimum(0)),
    default_accuracy_km: z.int().check(z.minimum(0)),
    restricted_countries: Flags,
  }),
  thresholds: PerTier(Thresholds),
  deny_score: PerTier(Points),
  fatigue: z.strictObject({ max_prompts: z.int().check(z.minimum(1)) }),
  notify_security: Flags,
  requirements: z.strictObject({
    tiers: PerTier(SessionRequirement),
    levels: z.strictObject({ low: SessionRequirement, medium: SessionRequirement, high: SessionRequirement, critical: SessionRequirement }),
    /** Signals that suggest someone other than the subject: they require a fresh phishing-resistant login. */
    another_actor: z.strictObject({ signals: z.array(Code), max_age: Seconds }),
  }),
  assurance: z.strictObject({
    aal_names: z.tuple([z.literal("aal0"), z.literal("aal1"), z.literal("aal2"), z.literal("aal3")]),
    acr: z.record(z.string(), z.strictObject({ aal: Aal, phishing_resistant: z.boolean() })),
    /** RFC 8176 methods (and providers' own names) by the factors they prove. */
    amr: z.record(
      z.string(),
      z.strictObject({
        factors: z.array(z.enum(["knowledge", "possession", "inherence"])).check(z.minLength(1)),
        phishing_resistant: z.boolean(),
        hardware: z.boolean(),
      }),
    ),
    acr_values: z.strictObject({
      aal1: z.strictObject({ any: z.array(z.string()), phishing_resistant: z.array(z.string()) }),
      aal2: z.strictObject({ any: z.array(z.string()), phishing_resistant: z.array(z.string()) }),
      aal3: z.strictObject({ any: z.array(z.string()), phishing_resistant: z.array(z.string()) }),
    }),
    clock_skew: Seconds,
  }),
  workloads: z.strictObject({
    tiers: PerTier(
      z.strictObject({
        proof: z.array(CredentialType),
        max_lifetime: Seconds,
        storage: z.array(CredentialStorage),
        unknown_storage: z.boolean(),
      }),
    ),
    spiffe_trust_domains: Flags,
  }),
  catalog: z.strictObject({
    unknown_app_tier: Tier,
    action_floors: z.record(z.string(), Tier),
    privileged_actions: Flags,
    classification_floors: z.record(z.string(), Tier),
    apps: z.record(z.string(), App),
  }),
  exceptions: z.record(z.string(), Exception),
}));

export type Config = z.output<typeof ConfigSchema>;

/**
 * Whether tuning data meets this contract, without building its schemas: the check generated from
 * its JSON Schema (src/contracts/generated/config-check.ts, by `make docs`), and the thresholds'
 * order, the one rule JSON Schema cannot state, by the refinement's own function. What it refuses,
 * `ConfigSchema` parses again to name each problem; test/contracts/compiled.test.ts holds the two
 * to the same answers.
 */
export function meetsConfig(value: unknown): value is Config {
  return meetsConfigSchema(value) === true && Object.values((value as Config).thresholds).every(ascending);
}
