/**
 * The input document (v1): the one source of the contract between the SDK and the policy.
 * The TypeScript type is inferred from it, and schemas/input.schema.json is generated from it for
 * `opa check --schema`. Unknown is null, never a guess: every nullable field defaults to null, so
 * the policy always sees the same shape. Times are Unix seconds.
 */
import * as z from "zod";
import { IP_MAX_LENGTH, IP_PATTERN } from "./ip-text.js";
import { lazySchema } from "./lazy-schema.js";

/**
 * What a requester can do about a nullable field. "withholdable": the requester decides whether
 * it is there (a token, a posture statement, a header), so the policy reads null as the worst
 * value the field can have, and a property test holds it (test/policy/absence.test.ts) for
 * every field registered so, with `worst` as the value compared. "observed": the service itself
 * observes it (the socket's address, its own lists and stores, its directory, the route), so null
 * means only that the service does not know, and the policy decides what that costs.
 */
export type Withholding =
  | { readonly kind: "withholdable"; readonly worst: unknown; readonly why: string }
  | { readonly kind: "observed"; readonly why: string };

/** The withholding of every nullable field of the input, by schema. */
export const withholding = lazySchema(() => z.registry<Withholding>());

function withheld<T extends z.ZodType>(schema: T, worst: unknown, why: string): T {
  withholding.add(schema, { kind: "withholdable", worst, why });
  return schema;
}

function observed<T extends z.ZodType>(schema: T, why: string): T {
  withholding.add(schema, { kind: "observed", why });
  return schema;
}

/** Unix seconds, from 1970 up to the end of year 9999. */
export const UnixSeconds = lazySchema(() => z.int().min(0).max(253_402_300_799));

const Text = (max: number) => z.string().min(1).max(max);
const maybe = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);

const DIRECTORY = "from the identity provider's signed claims or the service's directory, never from the requester";
const ADDRESS = "worked out by the SDK from the connection's address and the service's own lists";
const STORE = "kept by the service's behaviour store, which the requester cannot reach";
const TOKEN = "the requester chooses which token, if any, it presents";
const POSTURE = "the requester chooses whether to send a posture statement, and which";
const CREDENTIAL = "the requester chooses the credential it presents";

export const SubjectKind = lazySchema(() => z.enum(["human", "service", "workload"]));

export const Subject = lazySchema(() => z.strictObject({
  id: Text(256),
  kind: SubjectKind,
  roles: z.array(Text(128)).max(64).default([]),
  groups: z.array(Text(128)).max(64).default([]),
  tags: z.array(Text(128)).max(64).default([]),
  /**
   * When the subject was last granted a role or group, if the identity provider or the caller
   * says: an action that uses privilege needs an authentication after it.
   */
  privilege_granted_at: observed(maybe(UnixSeconds), DIRECTORY),
}));

/** A person's authenticated session (RFC 8176 amr values, OIDC acr). */
export const Session = lazySchema(() => z.strictObject({
  acr: withheld(maybe(Text(256)), "urn:stepup:unknown", TOKEN),
  amr: withheld(maybe(z.array(Text(64)).max(16)), ["pwd"], TOKEN),
  auth_time: withheld(maybe(UnixSeconds), 0, TOKEN),
}));

export const CredentialType = lazySchema(() => z.enum([
  "spiffe_svid",
  "mtls",
  "oidc_federated",
  "oauth_client_credentials",
  "static_api_key",
]));

export const CredentialStorage = lazySchema(() => z.enum([
  "secrets_manager",
  "workload_api",
  "env",
  "config_file",
  "code",
  "ci",
]));

/** What a service or workload authenticated with. */
export const Credential = lazySchema(() => z.strictObject({
  type: CredentialType,
  issued_at: withheld(maybe(UnixSeconds), 0, CREDENTIAL),
  expires_at: withheld(maybe(UnixSeconds), 253_402_300_799, CREDENTIAL),
  storage: observed(maybe(CredentialStorage), "declared for the workload by the service's operator, never by the requester"),
  spiffe_id: withheld(maybe(z.string().max(2048).regex(/^spiffe:\/\/[^/]+(\/.*)?$/, "expected a spiffe:// ID")), "spiffe://untrusted.invalid/x", CREDENTIAL),
}));

export const DeviceKind = lazySchema(() => z.enum(["laptop", "desktop", "mobile", "shared", "server"]));

/**
 * The device. `attested` is true only when the SDK verified a signed posture statement; the other
 * fields are null unless that statement set them, and the policy reads a null one as unhealthy.
 */
export const Device = lazySchema(() => z.strictObject({
  id: withheld(maybe(Text(256)), "device-never-seen", POSTURE),
  attested: z.boolean().default(false),
  managed: withheld(maybe(z.boolean()), false, POSTURE),
  compliant: withheld(maybe(z.boolean()), false, POSTURE),
  encrypted: withheld(maybe(z.boolean()), false, POSTURE),
  edr_running: withheld(maybe(z.boolean()), false, POSTURE),
  os_patch_age_days: withheld(maybe(z.int().min(0).max(36_500)), 36_500, POSTURE),
  kind: withheld(maybe(DeviceKind), "shared", POSTURE),
}));

export const NetworkZone = lazySchema(() => z.enum(["corporate", "known", "external"]));
export const Reputation = lazySchema(() => z.enum(["good", "neutral", "suspicious", "malicious"]));
export const Anonymizer = lazySchema(() => z.enum(["none", "vpn", "tor", "proxy", "hosting"]));

/** Where the request enters. A null zone, reputation or anonymizer is unknown. */
export const Network = lazySchema(() => z.strictObject({
  // One pattern for the SDK and the published schema: IPv4-mapped IPv6 (::ffff:198.51.100.7) is accepted by both.
  ip: observed(
    maybe(z.string().max(IP_MAX_LENGTH).regex(new RegExp(IP_PATTERN), "expected an IPv4 or IPv6 address")),
    "the connection's address, as trusted proxies pass it on",
  ),
  zone: observed(maybe(NetworkZone), ADDRESS),
  reputation: observed(maybe(Reputation), ADDRESS),
  anonymizer: observed(maybe(Anonymizer), ADDRESS),
  asn: observed(maybe(z.int().min(0).max(4_294_967_295)), ADDRESS),
}));

const Country = lazySchema(() => z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 code"));
const Latitude = lazySchema(() => z.number().min(-90).max(90));
const Longitude = lazySchema(() => z.number().min(-180).max(180));
/** Whole kilometres: the policy compares them, and integers compare the same in every runtime. */
const Kilometres = lazySchema(() => z.int().min(0).max(50_000));

/** The previous successful login's place and time, from the behaviour store. */
export const PreviousLogin = lazySchema(() => z.strictObject({
  country: observed(maybe(Country), STORE),
  accuracy_km: observed(maybe(Kilometres), STORE),
  time: UnixSeconds,
  anonymized: z.boolean().default(false),
}));

/**
 * Geography. The SDK computes the great-circle distance from the previous login, because Rego has
 * no trigonometry; the policy works out speed itself, with the accuracy radii taken off.
 */
export const Geo = lazySchema(() => z.strictObject({
  country: observed(maybe(Country), ADDRESS),
  lat: observed(maybe(Latitude), ADDRESS),
  lon: observed(maybe(Longitude), ADDRESS),
  accuracy_km: observed(maybe(Kilometres), ADDRESS),
  distance_km: observed(maybe(Kilometres), ADDRESS),
  previous: observed(maybe(PreviousLogin), STORE),
}));

/** The subject's recent behaviour, from the behaviour store's counters. */
export const Behavior = lazySchema(() => z.strictObject({
  failed_attempts_recent: observed(maybe(z.int().min(0).max(1_000_000)), STORE),
  prompts_recent: observed(maybe(z.int().min(0).max(1_000_000)), STORE),
  privilege_escalation: observed(maybe(z.boolean()), DIRECTORY),
}));

const FEATURES = ["asn", "country", "location", "device", "attestation", "browser", "hour", "app"] as const;
/**
 * The features of a request that the behaviour store's profile of a subject compares. Its options
 * are answered without building the schema: the profile's module reads them when it is evaluated.
 */
export const Feature = lazySchema(() => z.enum(FEATURES), { options: [...FEATURES] });
export type Feature = z.output<typeof Feature>;

/**
 * How familiar this request's context is for this subject, worked out by the SDK from the
 * behaviour store's profile of the subject's proven authentications (signals/behavior/familiarity.ts).
 */
export const Familiarity = lazySchema(() => z.strictObject({
  /** Proven authentications the profile remembers, decayed with age and rounded down. */
  history: z.int().min(0).max(1_000_000),
  /**
   * The evidence, in hundredths of a bit, that someone other than the subject is behind the
   * request: the sum over features of how much less likely the request's value is for this
   * subject than for anyone. Several new features at once add up; one alone stays small.
   */
  novelty: z.int().min(0).max(1_000_000),
  /** The features whose value this subject has not shown before. */
  unfamiliar: z.array(Feature).max(8),
}));

/** What is being reached. Its sensitivity comes from the bundle's catalog, never from here. */
export const Target = lazySchema(() => z.strictObject({
  app: Text(128),
  action: Text(64),
  resource: observed(maybe(Text(1024)), "the route the service maps the request to"),
}));

export const InputSchema = lazySchema(() => z.strictObject({
  version: z.literal(1).default(1),
  now: UnixSeconds,
  subject: Subject,
  session: withheld(maybe(Session), { acr: null, amr: ["pwd"], auth_time: 0 }, TOKEN),
  credential: withheld(
    maybe(Credential),
    { type: "static_api_key", issued_at: 0, expires_at: 253_402_300_799, storage: "code", spiffe_id: null },
    CREDENTIAL,
  ),
  device: withheld(
    maybe(Device),
    { id: "device-never-seen", attested: true, managed: false, compliant: false, encrypted: false, edr_running: false, os_patch_age_days: 36_500, kind: "shared" },
    POSTURE,
  ),
  network: Network.default({
    ip: null,
    zone: null,
    reputation: null,
    anonymizer: null,
    asn: null,
  }),
  geo: observed(maybe(Geo), ADDRESS),
  behavior: observed(maybe(Behavior), STORE),
  familiarity: withheld(
    maybe(Familiarity),
    { history: 1_000_000, novelty: 1_000_000, unfamiliar: ["asn", "country", "location", "device", "attestation", "browser", "hour", "app"] },
    "it compares what the requester sends (posture, browser) with the subject's history",
  ),
  target: Target,
}));

/** The input as the policy sees it: every field present, unknowns null. */
export type Input = z.output<typeof InputSchema>;
/** The input as a caller may write it: nullable fields may be left out. */
export type InputDraft = z.input<typeof InputSchema>;
