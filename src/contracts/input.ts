/**
 * The input document (v1): the one source of the contract between the SDK and the policy.
 * The TypeScript type is inferred from it, and schemas/input.schema.json is generated from it for
 * `opa check --schema`. Unknown is null, never a guess: every nullable field defaults to null, so
 * the policy always sees the same shape. Times are Unix seconds.
 */
import { z } from "zod";

/** Unix seconds, from 1970 up to the end of year 9999. */
export const UnixSeconds = z.int().min(0).max(253_402_300_799);

const Text = (max: number) => z.string().min(1).max(max);
const maybe = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);

export const SubjectKind = z.enum(["human", "service", "workload"]);

export const Subject = z.strictObject({
  id: Text(256),
  kind: SubjectKind,
  roles: z.array(Text(128)).max(64).default([]),
  groups: z.array(Text(128)).max(64).default([]),
  tags: z.array(Text(128)).max(64).default([]),
});

/** A person's authenticated session (RFC 8176 amr values, OIDC acr). */
export const Session = z.strictObject({
  acr: maybe(Text(256)),
  amr: maybe(z.array(Text(64)).max(16)),
  auth_time: maybe(UnixSeconds),
});

export const CredentialType = z.enum([
  "spiffe_svid",
  "mtls",
  "oidc_federated",
  "oauth_client_credentials",
  "static_api_key",
]);

export const CredentialStorage = z.enum([
  "secrets_manager",
  "workload_api",
  "env",
  "config_file",
  "code",
  "ci",
]);

/** What a service or workload authenticated with. */
export const Credential = z.strictObject({
  type: CredentialType,
  issued_at: maybe(UnixSeconds),
  expires_at: maybe(UnixSeconds),
  storage: maybe(CredentialStorage),
  spiffe_id: maybe(z.string().max(2048).regex(/^spiffe:\/\/[^/]+(\/.*)?$/, "expected a spiffe:// ID")),
});

export const DeviceKind = z.enum(["laptop", "desktop", "mobile", "shared", "server"]);

/**
 * The device. `attested` is true only when the SDK verified a signed posture statement; the other
 * fields are null unless that statement set them.
 */
export const Device = z.strictObject({
  id: maybe(Text(256)),
  attested: z.boolean().default(false),
  managed: maybe(z.boolean()),
  compliant: maybe(z.boolean()),
  encrypted: maybe(z.boolean()),
  edr_running: maybe(z.boolean()),
  os_patch_age_days: maybe(z.int().min(0).max(36_500)),
  kind: maybe(DeviceKind),
});

export const NetworkZone = z.enum(["corporate", "known", "external"]);
export const Reputation = z.enum(["good", "neutral", "suspicious", "malicious"]);
export const Anonymizer = z.enum(["none", "vpn", "tor", "proxy", "hosting"]);

/** Where the request enters. A null zone, reputation or anonymizer is unknown. */
export const Network = z.strictObject({
  ip: maybe(z.union([z.ipv4(), z.ipv6()])),
  zone: maybe(NetworkZone),
  reputation: maybe(Reputation),
  anonymizer: maybe(Anonymizer),
  asn: maybe(z.int().min(0).max(4_294_967_295)),
});

const Country = z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 code");
const Latitude = z.number().min(-90).max(90);
const Longitude = z.number().min(-180).max(180);
const Kilometres = z.number().min(0).max(50_000);

/** The previous successful login's place and time, from the behaviour store. */
export const PreviousLogin = z.strictObject({
  country: maybe(Country),
  accuracy_km: maybe(Kilometres),
  time: UnixSeconds,
  anonymized: z.boolean().default(false),
});

/**
 * Geography. The SDK computes the great-circle distance from the previous login, because Rego has
 * no trigonometry; the policy works out speed itself, with the accuracy radii taken off.
 */
export const Geo = z.strictObject({
  country: maybe(Country),
  lat: maybe(Latitude),
  lon: maybe(Longitude),
  accuracy_km: maybe(Kilometres),
  distance_km: maybe(Kilometres),
  previous: maybe(PreviousLogin),
});

/** The subject's behaviour, from the behaviour store. */
export const Behavior = z.strictObject({
  new_device: maybe(z.boolean()),
  new_country: maybe(z.boolean()),
  new_asn: maybe(z.boolean()),
  usual_hours: maybe(z.boolean()),
  failed_attempts_recent: maybe(z.int().min(0).max(1_000_000)),
  prompts_recent: maybe(z.int().min(0).max(1_000_000)),
  privilege_escalation: maybe(z.boolean()),
});

/** What is being reached. Its sensitivity comes from the bundle's catalog, never from here. */
export const Target = z.strictObject({
  app: Text(128),
  action: Text(64),
  resource: maybe(Text(1024)),
});

export const InputSchema = z.strictObject({
  version: z.literal(1).default(1),
  now: UnixSeconds,
  subject: Subject,
  session: maybe(Session),
  credential: maybe(Credential),
  device: maybe(Device),
  network: Network.default({
    ip: null,
    zone: null,
    reputation: null,
    anonymizer: null,
    asn: null,
  }),
  geo: maybe(Geo),
  behavior: maybe(Behavior),
  target: Target,
});

/** The input as the policy sees it: every field present, unknowns null. */
export type Input = z.output<typeof InputSchema>;
/** The input as a caller may write it: nullable fields may be left out. */
export type InputDraft = z.input<typeof InputSchema>;
