/**
 * The device signal: a signed posture statement (a JWT from an MDM or posture service) verified
 * with that issuer's keys, its claims mapped onto the input's device fields. A statement that is
 * missing, unsigned, expired, badly signed or about another subject leaves the device unattested
 * with every field unknown, exactly as if none had been sent, so a forged one can never help.
 */
import type { JWTPayload } from "jose";
import type { Input } from "../contracts/input.js";
import { Device } from "../contracts/input.js";
import { isStepupError } from "../errors.js";
import { verifyJwt } from "./jwt.js";
import { loadKeys, type KeySource, type Keys } from "./keys.js";
import { VerifiedCache } from "./verified-cache.js";

export type DeviceFields = NonNullable<Input["device"]>;

export interface PostureOptions {
  readonly keys: KeySource;
  readonly issuer: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly algorithms?: readonly string[];
  /** Oldest statement accepted, by its `iat`, in seconds; one day by default. */
  readonly maxAgeSec?: number;
  readonly clockToleranceSec?: number;
  /** Verified tokens remembered (by hash) so a repeated one is not verified again; 10 000 by default, 0 for none. */
  readonly cacheSize?: number;
  /** A claim that must name the request's subject (binds the statement to the user). */
  readonly subjectClaim?: string;
  /** Maps verified claims to device fields; the default reads the names in `DEFAULT_POSTURE_CLAIMS`. */
  readonly map?: (claims: JWTPayload) => Partial<Record<keyof DeviceFields, unknown>>;
}

/** The claim names the default mapping reads. */
export const DEFAULT_POSTURE_CLAIMS = {
  id: ["device_id", "sub"],
  managed: ["managed"],
  compliant: ["compliant"],
  encrypted: ["disk_encrypted", "encrypted"],
  edr_running: ["edr_running"],
  os_patch_age_days: ["os_patch_age_days"],
  kind: ["device_kind"],
} as const;

export interface Posture {
  readonly device: DeviceFields;
  /** Why the device is unattested, when it is (`missing`, `signature`, `expired`, `subject`, …). */
  readonly unattested?: string;
}

export const UNATTESTED: DeviceFields = Object.freeze({
  id: null,
  attested: false,
  managed: null,
  compliant: null,
  encrypted: null,
  edr_running: null,
  os_patch_age_days: null,
  kind: null,
});

export class PostureVerifier {
  private constructor(
    private readonly keys: Keys,
    private readonly cache: VerifiedCache,
    private readonly options: PostureOptions,
  ) {}

  static async create(options: PostureOptions): Promise<PostureVerifier> {
    return new PostureVerifier(await loadKeys(options.keys), new VerifiedCache(options.cacheSize), options);
  }

  /** Assesses a statement (or its absence) for a subject at `now`; never throws for a bad statement. */
  async assess(statement: string | null, subject: string | null, now: number): Promise<Posture> {
    if (!statement) return { device: UNATTESTED, unattested: "missing" };
    let claims: JWTPayload;
    try {
      const o = this.options;
      ({ payload: claims } = await verifyJwt(
        statement,
        this.keys,
        {
          issuer: o.issuer as string | string[],
          ...(o.audience ? { audience: o.audience as string | string[] } : {}),
          ...(o.algorithms ? { algorithms: [...o.algorithms] } : {}),
          maxTokenAge: o.maxAgeSec ?? 86_400,
          clockTolerance: o.clockToleranceSec ?? 60,
          requiredClaims: ["iss", "iat", "exp"],
        },
        now,
        this.cache,
      ));
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_TOKEN_INVALID") return { device: UNATTESTED, unattested: err.reason };
      throw err; // keys unavailable: an internal failure, not the device's
    }
    const bound = this.options.subjectClaim;
    if (bound && (subject === null || claims[bound] !== subject)) return { device: UNATTESTED, unattested: "subject" };
    return { device: { ...fieldsOf((this.options.map ?? defaultMap)(claims)), attested: true } };
  }
}

function defaultMap(claims: JWTPayload): Partial<Record<keyof DeviceFields, unknown>> {
  const out: Partial<Record<keyof DeviceFields, unknown>> = {};
  for (const [field, names] of Object.entries(DEFAULT_POSTURE_CLAIMS)) {
    const name = names.find((n) => claims[n] !== undefined);
    if (name) out[field as keyof DeviceFields] = claims[name];
  }
  return out;
}

/** Each mapped field checked on its own against the contract; a malformed one stays unknown. */
function fieldsOf(mapped: Partial<Record<keyof DeviceFields, unknown>>): DeviceFields {
  const shape = Device.shape;
  const out: Record<string, unknown> = { ...UNATTESTED };
  for (const key of Object.keys(UNATTESTED) as (keyof DeviceFields)[]) {
    if (key === "attested" || mapped[key] === undefined) continue;
    const parsed = shape[key].safeParse(mapped[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as DeviceFields;
}
