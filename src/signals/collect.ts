/**
 * Signal collection: from a request to a validated input document. Each collector reads one real
 * source (a verified token or, without one, a verified mTLS peer; a signed posture statement, CIDR
 * zones and list files, mmdb databases, the behaviour store, the route mapping); what a source
 * cannot say stays null. A
 * token that does not verify and a route that maps to nothing are errors; a source that fails
 * (keys unreachable, Redis down) is recorded in `failures`, for the guard to fail closed on
 * sensitive targets.
 */
import type { Input } from "../contracts/input.js";
import { BehaviorStoreError, KeysUnavailableError, TokenInvalidError, isStepupError, type StepupErrors } from "../errors.js";
import { buildInput } from "../input/builder.js";
import { DEFAULT_USUAL_HOURS, behaviorOf, previousOf, type UsualHours } from "./behavior/derive.js";
import type { BehaviorStore, Observation } from "./behavior/store.js";
import type { ClientAddress } from "./client-address.js";
import { PostureVerifier, UNATTESTED, type PostureOptions } from "./device.js";
import { GeoLocator, type GeoOptions, type Place } from "./geo.js";
import { greatCircleKm } from "./great-circle.js";
import { NetworkSignals, type NetworkOptions } from "./network.js";
import { headerValue, type RequestFacts } from "./request.js";
import { SessionVerifier, type SessionOptions, type VerifiedCaller } from "./session.js";
import { TargetMap, type TargetOptions, type TargetOverride } from "./target.js";
import { peerCaller, type WorkloadOptions } from "./workload.js";

export interface SignalsOptions {
  /** How bearer tokens are verified; without it no request has a session. */
  readonly session?: SessionOptions;
  /** How device-posture statements are verified, and the header that carries them. */
  readonly device?: PostureOptions & { readonly header?: string };
  readonly network?: NetworkOptions;
  /** Geography databases; `false` for none. The bundled country database by default. */
  readonly geo?: GeoOptions | false;
  readonly behavior?: { readonly store: BehaviorStore; readonly usualHours?: Partial<UsualHours> };
  readonly targets?: TargetOptions;
  /** How a verified mTLS peer (from a trusted front such as Envoy) is read when no bearer token came. */
  readonly workloads?: WorkloadOptions;
  /** Unix seconds now, unless the request carries its arrival time; `Date.now()` by default. */
  readonly clock?: () => number;
}

/** What collection found for one request. */
export interface Collected {
  readonly input: Input;
  /** True when a verified token named the subject (otherwise the subject is "anonymous"). */
  readonly authenticated: boolean;
  readonly client: ClientAddress;
  readonly place: Place;
  /** Why the device is unattested, when a posture verifier is configured and it is. */
  readonly unattested: string | null;
  /** Sources that failed (an internal failure, not the caller's doing). */
  readonly failures: readonly StepupErrors[];
}

const ANONYMOUS: Input["subject"] = { id: "anonymous", kind: "human", roles: [], groups: [], tags: [] };
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export class Signals {
  private constructor(
    private readonly session: SessionVerifier | null,
    private readonly posture: PostureVerifier | null,
    private readonly postureHeader: string,
    readonly network: NetworkSignals,
    private readonly geo: GeoLocator | null,
    private readonly store: BehaviorStore | null,
    private readonly usualHours: UsualHours,
    private readonly targets: TargetMap,
    private readonly clock: () => number,
    private readonly workloads: WorkloadOptions,
  ) {}

  /**
   * Loads keys, lists and databases and checks the configuration.
   * @example
   * const signals = await Signals.create({
   *   session: { keys: { jwksUrl: "https://idp.example/jwks" }, issuer: "https://idp.example", audience: "api" },
   *   network: { trustedProxies: ["10.0.0.0/8"], zones: { corporate: ["198.51.100.0/24"] } },
   *   behavior: { store: new MemoryBehaviorStore() },
   *   targets: { routes: [{ path: "/admin/*rest", app: "admin-console", action: "admin" }] },
   * });
   */
  static async create(options: SignalsOptions = {}): Promise<Signals> {
    const [session, posture, network, geo] = await Promise.all([
      options.session ? SessionVerifier.create(options.session) : null,
      options.device ? PostureVerifier.create(options.device) : null,
      NetworkSignals.load(options.network),
      options.geo === false ? null : GeoLocator.open(options.geo),
    ]);
    return new Signals(
      session,
      posture,
      (options.device?.header ?? "x-device-posture").toLowerCase(),
      network,
      geo,
      options.behavior?.store ?? null,
      { ...DEFAULT_USUAL_HOURS, ...options.behavior?.usualHours },
      new TargetMap(options.targets),
      options.clock ?? (() => Math.floor(Date.now() / 1000)),
      options.workloads ?? {},
    );
  }

  /** The behaviour store, for recording logins, prompts and failures. */
  get behavior(): BehaviorStore | null {
    return this.store;
  }

  /**
   * Collects every signal for a request. Throws `TokenInvalidError` for a token that does not
   * verify and `TargetUnmappedError` for a route no rule maps.
   */
  async collect(req: RequestFacts, target?: TargetOverride): Promise<Collected> {
    const now = req.time ?? this.clock();
    const failures: StepupErrors[] = [];
    const mapped = this.targets.resolve(req, target);
    const client = this.network.client(req.peer, req.headers["x-forwarded-for"]);
    const place = this.geo?.lookup(client.ip) ?? { country: null, lat: null, lon: null, accuracy_km: null, asn: null };
    const network = this.network.classify(client.ip, place.asn);
    const caller = await this.caller(req, now, failures);
    const subject = caller?.subject ?? ANONYMOUS;
    let device: Input["device"] = null;
    let unattested: string | null = null;
    if (this.posture) {
      const statement = headerValue(req.headers, this.postureHeader);
      const posture = await this.guarded(failures, keysFailure("device posture keys"), () =>
        this.posture!.assess(statement, caller ? subject.id : null, now),
      );
      device = posture?.device ?? UNATTESTED;
      unattested = posture ? (posture.unattested ?? null) : "failure";
    }
    const observation = caller && this.store
      ? await this.guarded(failures, storeFailure, () =>
          this.store!.observe(subject.id, { now, deviceId: device?.attested ? device.id : null, country: place.country, asn: place.asn }),
        )
      : null;
    const input = buildInput({
      now,
      subject,
      session: caller?.session ?? null,
      credential: caller?.credential ?? null,
      device,
      network,
      geo: this.geo || observation ? geoOf(place, observation) : null,
      behavior: observation ? behaviorOf(observation, now, this.usualHours) : null,
      target: mapped,
    });
    return { input, authenticated: caller !== null, client, place, unattested, failures };
  }

  /**
   * Records a successful authentication for the request's subject, at the request's place. Call
   * it only once the identity provider confirmed the login (never on a mere request), so that an
   * attacker's attempts cannot teach stepup what is normal.
   */
  async recordLogin(collected: Collected): Promise<void> {
    const { input, place } = collected;
    if (!this.store || !collected.authenticated) return;
    const anonymizer = input.network.anonymizer;
    await this.store.recordLogin(input.subject.id, {
      time: input.now,
      deviceId: input.device?.attested ? input.device.id : null,
      country: place.country,
      asn: place.asn,
      lat: place.lat,
      lon: place.lon,
      accuracyKm: place.accuracy_km,
      anonymized: anonymizer !== null && anonymizer !== "none",
    });
  }

  private async caller(req: RequestFacts, now: number, failures: StepupErrors[]): Promise<VerifiedCaller | null> {
    const token = bearerToken(headerValue(req.headers, "authorization"));
    if (token === null) return peerCaller(req.peerIdentity, this.workloads);
    if (!this.session) return null;
    try {
      return await this.session.verify(token, now);
    } catch (err) {
      if (isStepupError(err) && err.code === "ERR_TOKEN_INVALID") throw err;
      failures.push(keysFailure("session keys")(err));
      return null;
    }
  }

  private async guarded<T>(failures: StepupErrors[], wrap: (err: unknown) => StepupErrors, run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (err) {
      failures.push(wrap(err));
      return null;
    }
  }
}

/** The bearer token of an Authorization header; null for none or another scheme. */
export function bearerToken(header: string | null): string | null {
  if (header === null) return null;
  if (!/^bearer(\s|$)/i.test(header.trimStart())) return null;
  const m = BEARER.exec(header.trim());
  if (!m?.[1]) throw new TokenInvalidError("malformed", "the Authorization header is not a well-formed Bearer credential");
  return m[1];
}

function geoOf(place: Place, observation: Observation | null): NonNullable<Input["geo"]> {
  const last = observation?.last ?? null;
  let distance: number | null = null;
  if (place.lat !== null && place.lon !== null && last?.lat != null && last.lon != null) {
    distance = Math.min(50_000, Math.round(greatCircleKm(place as { lat: number; lon: number }, { lat: last.lat, lon: last.lon }) * 10) / 10);
  }
  return {
    country: place.country,
    lat: place.lat,
    lon: place.lon,
    accuracy_km: place.accuracy_km,
    distance_km: distance,
    previous: observation ? previousOf(observation) : null,
  };
}

function keysFailure(source: string): (err: unknown) => StepupErrors {
  return (err) => (isStepupError(err) ? err : new KeysUnavailableError(source, { cause: err }));
}

function storeFailure(err: unknown): StepupErrors {
  return isStepupError(err) ? err : new BehaviorStoreError(`behaviour store: ${String(err)}`, { cause: err });
}
