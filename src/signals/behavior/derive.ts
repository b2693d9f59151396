/**
 * From what the store remembers to the input's behaviour and previous-login fields. With no
 * history at all (a subject's first login) nothing is "new": there is nothing to compare with, so
 * those signals stay unknown and the policy decides what unknown costs.
 */
import type { Input } from "../../contracts/input.js";
import { hourOf, type Observation } from "./store.js";

export interface UsualHours {
  /** Fewer recorded logins than this and usual hours stay unknown; 5 by default. */
  readonly minLogins: number;
  /** The share of logins within an hour either side of now that makes the hour usual; 0.1 by default. */
  readonly share: number;
}

export const DEFAULT_USUAL_HOURS: UsualHours = { minLogins: 5, share: 0.1 };

export function behaviorOf(obs: Observation, now: number, usual: UsualHours = DEFAULT_USUAL_HOURS): NonNullable<Input["behavior"]> {
  const baseline = obs.last !== null;
  const isNew = (known: boolean | null) => (known === null || !baseline ? null : !known);
  return {
    new_device: isNew(obs.knownDevice),
    new_country: isNew(obs.knownCountry),
    new_asn: isNew(obs.knownAsn),
    usual_hours: usualHours(obs.loginHours, now, usual),
    failed_attempts_recent: Math.min(obs.failuresRecent, 1_000_000),
    prompts_recent: Math.min(obs.promptsRecent, 1_000_000),
    privilege_escalation: null,
  };
}

function usualHours(hours: readonly number[], now: number, usual: UsualHours): boolean | null {
  const total = hours.reduce((a, b) => a + b, 0);
  if (total < usual.minLogins) return null;
  const h = hourOf(now);
  const near = (hours[(h + 23) % 24] ?? 0) + (hours[h] ?? 0) + (hours[(h + 1) % 24] ?? 0);
  return near / total >= usual.share;
}

/** The previous login as the input carries it. */
export function previousOf(obs: Observation): NonNullable<Input["geo"]>["previous"] {
  const last = obs.last;
  if (!last) return null;
  return { country: last.country, accuracy_km: clampKm(last.accuracyKm), time: last.time, anonymized: last.anonymized };
}

function clampKm(km: number | null): number | null {
  return km === null || !(km >= 0) ? null : Math.min(km, 50_000);
}
