/**
 * The behaviour store: what stepup remembers about each subject, in memory or in Redis behind one
 * interface. Deciding only reads (`observe`, one round trip); history changes only through
 * successful-authentication events (`recordLogin`), prompts actually sent (`recordPrompt`) and
 * failed attempts (`recordFailure`), so an attacker's requests cannot teach the model what is
 * normal. Every entry expires. Times are Unix seconds passed in by the caller, never read here.
 */

/** A successful authentication, recorded after the identity provider confirmed it. */
export interface LoginEvent {
  readonly time: number;
  readonly deviceId: string | null;
  readonly country: string | null;
  readonly asn: number | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly accuracyKm: number | null;
  /** The login came through an anonymizer (VPN, Tor, proxy, hosting), so its place is doubtful. */
  readonly anonymized: boolean;
}

/** What a decision asks of the store: is this device, country, ASN known for the subject? */
export interface Probe {
  readonly now: number;
  readonly deviceId: string | null;
  readonly country: string | null;
  readonly asn: number | null;
}

/** The last login as stored. */
export interface LastLogin {
  readonly time: number;
  readonly country: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly accuracyKm: number | null;
  readonly anonymized: boolean;
}

/** The store's answer for one decision. Known-ness is null when nothing was asked. */
export interface Observation {
  readonly last: LastLogin | null;
  readonly knownDevice: boolean | null;
  readonly knownCountry: boolean | null;
  readonly knownAsn: boolean | null;
  readonly failuresRecent: number;
  readonly promptsRecent: number;
  /** Successful logins per hour of day (UTC), index 0–23. */
  readonly loginHours: readonly number[];
}

/** How long each kind of memory lasts, in seconds, and how much of it is kept. */
export interface BehaviorWindows {
  /** Failed attempts count for this long. */
  readonly failures: number;
  /** Prompts count for this long (the MFA-fatigue window). */
  readonly prompts: number;
  /** Devices, countries, ASNs, login hours and the last login are remembered this long. */
  readonly retention: number;
  /** At most this many devices, countries or ASNs per subject (the oldest go first). */
  readonly maxMembers: number;
}

export const DEFAULT_WINDOWS: BehaviorWindows = {
  failures: 15 * 60,
  prompts: 10 * 60,
  retention: 90 * 86_400,
  maxMembers: 64,
};

export interface BehaviorStore {
  observe(subject: string, probe: Probe): Promise<Observation>;
  recordLogin(subject: string, login: LoginEvent): Promise<void>;
  recordPrompt(subject: string, time: number): Promise<void>;
  recordFailure(subject: string, time: number): Promise<void>;
  close(): Promise<void>;
}

/** Hour of day (UTC) of a Unix time. */
export function hourOf(time: number): number {
  return Math.floor((time % 86_400) / 3_600);
}
