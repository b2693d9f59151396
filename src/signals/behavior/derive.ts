/**
 * From what the store remembers to the input's behaviour, familiarity and previous-login fields,
 * and from a request's facts to the features a profile compares.
 */
import type { Input } from "../../contracts/input.js";
import { greatCircleKm } from "../great-circle.js";
import type { Features, Observation } from "./store.js";

export function behaviorOf(obs: Observation): NonNullable<Input["behavior"]> {
  return {
    failed_attempts_recent: Math.min(obs.failuresRecent, 1_000_000),
    prompts_recent: Math.min(obs.promptsRecent, 1_000_000),
    privilege_escalation: null,
  };
}

/** Where a request comes from, as the geography lookup placed its address. */
export interface Located {
  readonly country: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly accuracy_km: number | null;
}

/**
 * The input's geography: the request's place, and its distance from the previous login (the
 * great circle, which Rego cannot work out), in whole kilometres.
 */
export function geoOf(place: Located, observation: Observation | null): NonNullable<Input["geo"]> {
  const last = observation?.last ?? null;
  let distance: number | null = null;
  if (place.lat !== null && place.lon !== null && last?.lat != null && last.lon != null) {
    distance = wholeKm(greatCircleKm({ lat: place.lat, lon: place.lon }, { lat: last.lat, lon: last.lon }));
  }
  return {
    country: place.country,
    lat: place.lat,
    lon: place.lon,
    accuracy_km: wholeKm(place.accuracy_km),
    distance_km: distance,
    previous: observation ? previousOf(observation) : null,
  };
}

/** The previous login as the input carries it. */
export function previousOf(obs: Observation): NonNullable<Input["geo"]>["previous"] {
  const last = obs.last;
  if (!last) return null;
  return { country: last.country, accuracy_km: wholeKm(last.accuracyKm), time: last.time, anonymized: last.anonymized };
}

/** A distance or radius as the input carries it: whole kilometres, up to 50,000. */
export function wholeKm(km: number | null): number | null {
  return km === null || !(km >= 0) ? null : Math.min(Math.round(km), 50_000);
}

/** What is known of a request, for its features. */
export interface FeatureFacts {
  readonly now: number;
  readonly asn: number | null;
  readonly country: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  /** The device as the input carries it: null when no posture verifier is configured. */
  readonly device: Input["device"];
  /** The browser family, from the User-Agent; null without one. */
  readonly browser: string | null;
  readonly app: string;
}

/**
 * The features of a request: the address's network and country, a place coarse enough (a cell
 * of one degree, about 100 km) that commuting stays familiar, the proven device, whether posture
 * was proven, the browser family, the part of the week (weekday or weekend, three-hour blocks,
 * UTC) and the app.
 */
export function featuresOf(facts: FeatureFacts): Features {
  const { device } = facts;
  return {
    asn: facts.asn === null ? null : String(facts.asn),
    country: facts.country,
    location: facts.lat === null || facts.lon === null ? null : `${Math.floor(facts.lat)},${Math.floor(facts.lon)}`,
    device: device?.attested && device.id !== null ? device.id : null,
    attestation: device === null ? "none" : device.attested ? "attested" : "unattested",
    browser: facts.browser,
    hour: weekPart(facts.now),
    app: facts.app,
  };
}

function weekPart(now: number): string {
  // 1970-01-01 was a Thursday: day 0 of the week below is Monday.
  const day = (Math.floor(now / 86_400) + 3) % 7;
  const block = Math.floor((now % 86_400) / 10_800);
  return `${day >= 5 ? "weekend" : "weekday"}-${block}`;
}
