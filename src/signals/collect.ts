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
import { behaviorOf, featuresOf, geoOf } from "./behavior/derive.js";
import { DEFAULT_FAMILIARITY, familiarityOf, type FamiliarityModel } from "./behavior/familiarity.js";
import type { BehaviorStore, Features, Observation } from "./behavior/store.js";
import { browserFamily } from "./browser.js";
import type { ClientAddress } from "./client-address.js";
import { PostureVerifier, UNATTESTED, type PostureOptions } from "./device.js";
import { GeoLocator, type GeoOptions, type Place } from "./geo.js";
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
  readonly behavior?: { readonly store: BehaviorStore; readonly familiarity?: Partial<FamiliarityModel> };
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
  /** The request's features, which the behaviour store learns when the request is proven. */
  readonly features: Features;
  /** Sources that failed (an internal failure, not the caller's doing). */
  readonly failures: readonly StepupErrors[];
}

const ANONYMOUS: Input["subject"] = { id: "anonymous", kind: "human", roles: [], groups: [], tags: [], privilege_granted_at: null };
/**
 * The familiarity of a request that names nobody: there is no history to compare it with, which is
 * known, not withheld (the session it will sign in to is judged on its own context).
 */
const NO_HISTORY: NonNullable<Input["familiarity"]> = { history: 0, novelty: 0, unfamiliar: [] };
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export class Signals {
  private constructor(
    private readonly session: SessionVerifier | null,
    private readonly posture: PostureVerifier | null,
    private readonly postureHeader: string,
    readonly network: NetworkSignals,
    private readonly geo: GeoLocator | null,
    private readonly store: BehaviorStore | null,
    private readonly familiarity: FamiliarityModel,
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
      { ...DEFAULT_FAMILIARITY, ...options.behavior?.familiarity },
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
    const features = featuresOf({ now, asn: place.asn, country: place.country, lat: place.lat, lon: place.lon, device, browser: browserFamily(headerValue(req.headers, "user-agent")), app: mapped.app });
    const observation = caller && this.store
      ? await this.guarded(failures, storeFailure, () => this.store!.observe(subject.id, { now, features }))
      : null;
    const input = buildInput({
      now,
      subject,
      session: caller?.session ?? null,
      credential: caller?.credential ?? null,
      device,
      network,
      geo: this.geo || observation ? geoOf(place, observation) : null,
      behavior: observation ? behaviorOf(observation) : null,
      familiarity: observation ? familiarityOf(observation, features, this.familiarity) : caller ? null : NO_HISTORY,
      target: mapped,
    });
    return { input, authenticated: caller !== null, client, place, unattested, features, failures };
  }

  /**
   * Records a proven authentication for the request's subject, with the request's features and
   * place: a request allowed on a session that met its requirement, or a step-up the identity
   * provider confirmed. Never call it for a mere request, so that a claim an attacker presents
   * alone cannot teach stepup what is normal.
   */
  async recordLogin(collected: Collected): Promise<void> {
    const { input, place, features } = collected;
    if (!this.store || !collected.authenticated) return;
    const anonymizer = input.network.anonymizer;
    await this.store.recordLogin(input.subject.id, {
      time: input.now,
      features,
      country: place.country,
      lat: place.lat,
      lon: place.lon,
      accuracyKm: place.accuracy_km,
      anonymized: anonymizer !== null && anonymizer !== "none",
    });
  }

  /** Records a prompt sent to the request's subject (the MFA-fatigue count). */
  async recordPrompt(collected: Collected): Promise<void> {
    if (!this.store || !collected.authenticated) return;
    await this.store.recordPrompt(collected.input.subject.id, collected.input.now);
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

function keysFailure(source: string): (err: unknown) => StepupErrors {
  return (err) => (isStepupError(err) ? err : new KeysUnavailableError(source, { cause: err }));
}

function storeFailure(err: unknown): StepupErrors {
  return isStepupError(err) ? err : new BehaviorStoreError(`behaviour store: ${String(err)}`, { cause: err });
}
