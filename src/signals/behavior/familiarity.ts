/**
 * From a subject's profile to how familiar a request's context is, in the spirit of Freeman et
 * al., "Who Are You? A Statistical Approach to Measuring User Authenticity" (NDSS 2016): for each
 * feature, how much less likely the request's value is for this subject than for anyone. The
 * subject's likelihood is smoothed towards anyone's when its history is short (a subject with no
 * history gives no evidence either way), and only evidence against the subject counts: a familiar
 * value an attacker can copy (country, browser, hours) does not cancel a new device or network.
 * Several new features add up; one alone stays small: each feature's evidence is capped, so no
 * single one, however long the history it is unlike, weighs what two together do.
 */
import type { Feature, Input } from "../../contracts/input.js";
import { FEATURES, UNIT } from "./profile.js";
import type { Features, Observation } from "./store.js";

export interface FamiliarityModel {
  /**
   * How many authentications' worth of anyone's likelihood smooths a subject's own: the larger,
   * the more history a new value needs before it is strong evidence. 2 by default.
   */
  readonly pseudoCount: number;
  /** The likelihood of any one value for anyone (an attacker picking among what people use). 0.05 by default. */
  readonly prior: number;
  /** The most evidence one feature gives, in bits, before its weight; 5 by default. */
  readonly maxBits: number;
  /** How much each feature's evidence counts, at most 1. */
  readonly weights: Readonly<Record<Feature, number>>;
}

export const DEFAULT_FAMILIARITY: FamiliarityModel = {
  pseudoCount: 2,
  prior: 0.05,
  maxBits: 5,
  weights: { asn: 1, country: 1, location: 0.75, device: 1, attestation: 1, browser: 0.75, hour: 0.5, app: 0.5 },
};

/**
 * Features a requester can leave out (no posture statement, no User-Agent): an absent value counts
 * as one never seen. An absent value of any other feature (no geography for the address) is only
 * unknown, and gives no evidence.
 */
export const WITHHOLDABLE: ReadonlySet<Feature> = new Set(["device", "browser"]);

export function familiarityOf(obs: Observation, features: Features, model: FamiliarityModel = DEFAULT_FAMILIARITY): NonNullable<Input["familiarity"]> {
  let bits = 0;
  const unfamiliar: Feature[] = [];
  for (const feature of FEATURES) {
    if (features[feature] === null && !WITHHOLDABLE.has(feature)) continue;
    const { seen, total } = obs.profile[feature];
    const n = total / UNIT;
    if (n <= 0) continue;
    const c = seen / UNIT;
    const { pseudoCount: a, prior: p } = model;
    bits += model.weights[feature] * Math.min(model.maxBits, Math.max(0, Math.log2((p * (n + a)) / (c + a * p))));
    if (seen === 0) unfamiliar.push(feature);
  }
  return {
    history: Math.min(1_000_000, Math.floor(obs.history / UNIT)),
    novelty: Math.min(1_000_000, Math.round(bits * 100)),
    unfamiliar,
  };
}
