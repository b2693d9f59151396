/**
 * Familiarity from a subject's profile, through the real in-memory store: no history is no
 * evidence; one new feature stays below the policy's threshold while several add up past it; a
 * value the requester left out counts as new, one the service could not observe as unknown.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/contracts/config.js";
import { DEFAULT_FAMILIARITY, familiarityOf } from "../../src/signals/behavior/familiarity.js";
import { MemoryBehaviorStore } from "../../src/signals/behavior/memory.js";
import type { Features } from "../../src/signals/behavior/store.js";
import { testStepup } from "../helpers.js";

const T = 1_795_824_000;
const HOME: Features = { asn: "64500", country: "FR", location: "48,2", device: "laptop-1", attestation: "attested", browser: "Firefox", hour: "weekday-3", app: "wiki" };
let threshold: number;

beforeAll(async () => {
  const stepup = await testStepup();
  threshold = (stepup.bundle.data as { stepup: { config: Config } }).stepup.config.familiarity.novelty;
});

/** A store that saw `days` working days of the same context, then what `probe` makes of it. */
async function familiarity(probe: Partial<Features>, days = 20) {
  const store = new MemoryBehaviorStore();
  for (let d = 0; d < days; d++) {
    for (const hour of [0, 4]) await store.recordLogin("alice", { time: T + d * 86_400 + hour * 3_600, features: HOME, country: "FR", lat: 48.8, lon: 2.3, accuracyKm: 20, anonymized: false });
  }
  const now = T + days * 86_400;
  const features = { ...HOME, ...probe };
  return familiarityOf(await store.observe("alice", { now, features }), features);
}

describe("familiarity", () => {
  it("gives no evidence either way without history", async () => {
    const f = await familiarity({ asn: "65000", device: null, browser: "Chrome" }, 0);
    expect(f).toEqual({ history: 0, novelty: 0, unfamiliar: [] });
  });

  it("finds nothing new in the usual context", async () => {
    const f = await familiarity({});
    expect(f.novelty).toBe(0);
    expect(f.unfamiliar).toEqual([]);
    expect(f.history).toBeGreaterThan(20);
  });

  it("keeps one new feature below the policy's threshold, and adds several up past it", async () => {
    for (const one of [{ asn: "65000" }, { device: "laptop-2" }, { country: "ES" }, { browser: "Chrome" }]) {
      const f = await familiarity(one);
      expect(f.unfamiliar).toEqual(Object.keys(one));
      expect(f.novelty, JSON.stringify(one)).toBeGreaterThan(0);
      expect(f.novelty, JSON.stringify(one)).toBeLessThan(threshold);
    }
    const two = await familiarity({ asn: "65000", device: "laptop-2" });
    const three = await familiarity({ asn: "65000", device: "laptop-2", location: "40,-4" });
    expect(two.novelty).toBeGreaterThanOrEqual(threshold);
    expect(three.novelty).toBeGreaterThan(two.novelty);
  });

  it("counts a withheld device or browser as new, and an address it could not place as unknown", async () => {
    const withheld = await familiarity({ device: null, browser: null });
    expect(withheld.unfamiliar).toEqual(["device", "browser"]);
    const unplaced = await familiarity({ asn: null, country: null, location: null });
    expect(unplaced).toMatchObject({ novelty: 0, unfamiliar: [] });
  });

  it("never lets one feature alone, however long the history, reach the policy's threshold", async () => {
    const { maxBits, weights } = DEFAULT_FAMILIARITY;
    expect(100 * maxBits * Math.max(...Object.values(weights))).toBeLessThan(threshold);
    const f = await familiarity({ device: "laptop-2" }, 90);
    expect(f.novelty).toBeLessThan(threshold);
  });

  it("grows the evidence of a new value with the history it is unlike", async () => {
    const short = await familiarity({ asn: "65000", device: "laptop-2" }, 3);
    const long = await familiarity({ asn: "65000", device: "laptop-2" }, 30);
    expect(long.novelty).toBeGreaterThan(short.novelty);
  });
});
