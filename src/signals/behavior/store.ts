/**
 * The behaviour store: what stepup remembers about each subject, in memory or in Redis behind one
 * interface. Deciding only reads (`observe`, one round trip). History changes only through proven
 * authentications (`recordLogin`: a request allowed on a session that met its requirement, or a
 * completed step-up), prompts actually sent (`recordPrompt`) and failed attempts
 * (`recordFailure`), so a claim an attacker presents alone teaches the model nothing. Every entry
 * expires. Times are Unix seconds passed in by the caller, never read here.
 */
import type { Feature } from "../../contracts/input.js";

/** For each feature, the decayed count of the probe's value and of every value (thousandths). */
export type FeatureCounts = Readonly<Record<Feature, { readonly seen: number; readonly total: number }>>;

/**
 * The features of one request that a subject's profile compares, each as text (null: not known).
 * Only a device whose posture was proven has an id here.
 */
export type Features = Readonly<Record<Feature, string | null>>;

/** Where a login took place, for the next decision's travel check. */
export interface Place {
  readonly country: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly accuracyKm: number | null;
  /** The login came through an anonymizer (VPN, Tor, proxy, hosting), so its place is doubtful. */
  readonly anonymized: boolean;
}

/** A proven authentication: what the subject's profile learns from. */
export interface LoginEvent extends Place {
  readonly time: number;
  readonly features: Features;
}

/** What a decision asks of the store: how familiar are these features for the subject? */
export interface Probe {
  readonly now: number;
  readonly features: Features;
}

/** The last login as stored. */
export interface LastLogin extends Place {
  readonly time: number;
}

/** The store's answer for one decision. */
export interface Observation {
  readonly last: LastLogin | null;
  /** For each feature, how often the probe's value and any value were seen (decayed, in thousandths). */
  readonly profile: FeatureCounts;
  /** Proven authentications remembered (decayed, in thousandths). */
  readonly history: number;
  readonly failuresRecent: number;
  readonly promptsRecent: number;
}

/** How long each kind of memory lasts, in seconds, and how much of it is kept. */
export interface BehaviorWindows {
  /** Failed attempts count for this long. */
  readonly failures: number;
  /** Prompts count for this long (the MFA-fatigue window). */
  readonly prompts: number;
  /** A profile entry unseen for this long is forgotten; so is the last login. */
  readonly retention: number;
  /** At most this many values per feature per subject (the least seen go first). */
  readonly maxMembers: number;
  /** A profile's counts halve over this many days. */
  readonly halfLifeDays: number;
  /** The same context learned again within this many seconds counts once. */
  readonly relearn: number;
}

export const DEFAULT_WINDOWS: BehaviorWindows = {
  failures: 15 * 60,
  prompts: 10 * 60,
  retention: 90 * 86_400,
  maxMembers: 32,
  halfLifeDays: 30,
  relearn: 3_600,
};

export interface BehaviorStore {
  observe(subject: string, probe: Probe): Promise<Observation>;
  recordLogin(subject: string, login: LoginEvent): Promise<void>;
  recordPrompt(subject: string, time: number): Promise<void>;
  recordFailure(subject: string, time: number): Promise<void>;
  close(): Promise<void>;
}
