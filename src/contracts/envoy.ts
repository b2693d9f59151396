/**
 * The Envoy edge settings: the document opa-envoy-plugin reads as `data.stepup_envoy` (a data
 * bundle of its own beside the stepup bundle) and the Node ext_authz server reads to configure
 * its signals and routes, so both servers work from one configuration. Keys are inline JWKS and
 * lists are inline CIDRs (arrays, or indexed for lists of any size), because the policy never calls out.
 */
import * as z from "zod";
import { isAddressOrCidr } from "./address.js";
import { indexIssue } from "./address-index.js";
import { Anonymizer, CredentialStorage, Reputation } from "./input.js";
import { lazySchema } from "./lazy-schema.js";

/** The asymmetric JWS algorithms stepup accepts (the SDK's and the Rego's default list). */
export const JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;

const Text = (max: number) => z.string().min(1).max(max);
const OneOrMany = lazySchema(() => z.union([Text(2048), z.array(Text(2048)).min(1)]));
const Jwks = lazySchema(() => z.looseObject({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) }));
const Algorithms = lazySchema(() => z.array(z.enum(JWT_ALGORITHMS)).min(1));
const Tolerance = lazySchema(() => z.int().min(0).max(3600));
const Cidr = lazySchema(() => z.string().refine(isAddressOrCidr, "not an IP address or CIDR"));
const Bases = lazySchema(() => z.record(z.string(), z.record(z.string(), z.literal(true))));
/**
 * Addresses and CIDRs: an array (the policy tests each CIDR in turn: fine for tens of entries), or
 * indexed by family and prefix length (`stepup envoy index-settings` writes it; see
 * src/contracts/address-index.ts), which the policy looks up without a scan, for lists of any size.
 */
const AddressList = lazySchema(() => z.union([
  z.array(Cidr),
  z.strictObject({ ipv4: Bases.optional(), ipv6: Bases.optional() }).superRefine((index, ctx) => {
    const issue = indexIssue(index);
    if (issue) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }),
], { error: "expected an array of addresses and CIDRs, or an indexed list" }));

/** `/literal/*` for one segment, a final `/**` for the rest. */
const RoutePath = lazySchema(() => z
  .string()
  .max(1024)
  .regex(/^\/([^/*?#]+|\*)?(\/([^/*?#]+|\*))*(\/\*\*)?$/, "expected /segments with * for one segment and a final /** for the rest"));

export const EnvoyRouteSchema = lazySchema(() => z.strictObject({
  /** HTTP methods (any case); every method when absent. HEAD also matches GET routes. */
  methods: z.array(Text(32)).min(1).optional(),
  path: RoutePath,
  app: Text(128),
  /** The action; from the method when absent. */
  action: Text(64).optional(),
}));

export const EnvoySettingsSchema = lazySchema(() => z.strictObject({
  /** Bearer tokens: an access token (RFC 9068, `typ: at+jwt`) or an ID token, verified against `jwks`. */
  session: z
    .strictObject({
      issuer: OneOrMany,
      audience: OneOrMany,
      jwks: Jwks,
      token_kind: z.enum(["access_token", "id_token"]).optional(),
      algorithms: Algorithms.optional(),
      clock_tolerance: Tolerance.optional(),
    })
    .optional(),
  /** Device-posture statements (JWTs from an MDM) in a request header, verified against `jwks`. */
  device: z
    .strictObject({
      issuer: OneOrMany,
      audience: OneOrMany.optional(),
      jwks: Jwks,
      header: z.string().regex(/^[a-z0-9-]{1,64}$/, "expected a lower-case header name").optional(),
      /** A claim that must name the caller (binds the statement to the user). */
      subject_claim: Text(64).optional(),
      /** Oldest statement accepted, by its iat, in seconds (a day by default). */
      max_age: z.int().min(1).optional(),
      algorithms: Algorithms.optional(),
      clock_tolerance: Tolerance.optional(),
    })
    .optional(),
  network: z
    .strictObject({
      corporate: AddressList.optional(),
      known: AddressList.optional(),
      lists: z
        .array(
          z
            .strictObject({ cidrs: AddressList, reputation: Reputation.optional(), anonymizer: Anonymizer.optional() })
            .refine((l) => l.reputation !== undefined || l.anonymizer !== undefined, "names neither a reputation nor an anonymizer"),
        )
        .optional(),
    })
    .optional(),
  /** Where the mTLS workloads behind Envoy keep their keys (`workload_api` for SPIRE); unknown when absent. */
  workloads: z.strictObject({ storage: CredentialStorage.nullable().optional() }).optional(),
  targets: z
    .strictObject({
      routes: z.array(EnvoyRouteSchema).optional(),
      /** Action per HTTP method, over the defaults (GET read, POST write, DELETE delete, …). */
      actions: z.record(z.string(), Text(64)).optional(),
      /** The app of requests no route maps; without it they are denied. */
      fallback_app: Text(128).optional(),
    })
    .optional(),
  /** `realm` of the challenges. */
  realm: Text(256).optional(),
}));

export type EnvoySettings = z.output<typeof EnvoySettingsSchema>;
export type EnvoyAddressList = z.output<typeof AddressList>;
export type EnvoyRoute = z.output<typeof EnvoyRouteSchema>;
