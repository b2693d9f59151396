/**
 * A deterministic labelled stream of logins (docs/evaluation.md): employees of the organisation in
 * model.ts working for some weeks, and attacks of every class in docs/threat-model.md, each
 * holding the session it would really hold. The same options give the same stream, event for
 * event: every draw comes from one seeded generator, in a fixed order.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { AttackClass, LoginEvent } from "../contracts/evaluation.js";
import type { Input } from "../contracts/input.js";
import {
  ACCESSES_PER_DAY,
  ASN,
  ATTACKER_TARGETS,
  ATTACK_MIX,
  BROWSERS,
  COMMON_USES,
  ELSEWHERE,
  HOSTING_PROVIDERS,
  MOBILE_PER_REGION,
  PRIVILEGED,
  REGIONS,
  RESIDENTIAL_PER_REGION,
  ROLES,
  SHARES,
  VPN_PROVIDERS,
  type Region,
} from "./model.js";

export interface StreamOptions {
  /** The seed of every draw; 1 by default. */
  readonly seed?: number;
  /** 1,500 by default. */
  readonly employees?: number;
  /** Days covered, from a Monday; 42 by default. */
  readonly days?: number;
  /** Attacks, spread over the classes of the model's mix; 3,000 by default. */
  readonly attacks?: number;
  /** The first day, Unix seconds at midnight UTC of a Monday; 2026-01-05 by default. */
  readonly start?: number;
}

const DAY = 86_400;
const HOUR = 3_600;

type Use = readonly [string, string, number];
type Network = LoginEvent["network"];
type Place = LoginEvent["place"];
type Device = NonNullable<LoginEvent["device"]>;
type Session = NonNullable<LoginEvent["session"]>;

interface Laptop {
  readonly id: string;
  readonly browser: string;
}

interface Person {
  readonly id: string;
  readonly region: number;
  readonly home: readonly [number, number];
  readonly isp: number;
  readonly mobile: number;
  readonly uses: readonly Use[];
  readonly contractor: boolean;
  readonly passkey: boolean;
  readonly laptops: readonly Laptop[];
  /** From this day on, the second laptop. */
  readonly newLaptopDay: number;
  readonly phone: Laptop | null;
  readonly personal: string | null;
  readonly remoteShare: number;
  readonly vpn: { readonly asn: number; readonly region: number } | null;
  readonly trip: { readonly from: number; readonly to: number; readonly place: Region; readonly placeIndex: number; readonly asn: number } | null;
  readonly startHour: number;
  readonly weekendWorker: boolean;
  session: Session | null;
  sessionDay: number;
}

class Draw {
  private readonly rng;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  unit(): number {
    return uniformFloat64(this.rng);
  }
  chance(p: number): boolean {
    return this.unit() < p;
  }
  int(from: number, to: number): number {
    return uniformInt(this.rng, from, to);
  }
  between(from: number, to: number): number {
    return from + (to - from) * this.unit();
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let x = this.unit() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  }
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.unit();
    while (p > limit) {
      k++;
      p *= this.unit();
    }
    return k;
  }
}

/** The stream, in time order. */
export function generateStream(options: StreamOptions = {}): LoginEvent[] {
  const seed = options.seed ?? 1;
  const days = options.days ?? 42;
  const start = options.start ?? 1_767_571_200;
  const draw = new Draw(seed);
  const people = Array.from({ length: options.employees ?? 1_500 }, (_, i) => person(draw, i, days));
  const events: LoginEvent[] = [];
  for (let day = 0; day < days; day++) {
    for (const p of people) events.push(...workday(draw, p, day, start));
  }
  events.push(...attacks(draw, people, options.attacks ?? 3_000, days, start));
  // A stable sort: events at the same second keep the order they were drawn in.
  return events.map((event, i) => ({ event, i })).sort((a, b) => a.event.time - b.event.time || a.i - b.i).map(({ event }) => event);
}

function person(draw: Draw, i: number, days: number): Person {
  const region = draw.weighted(REGIONS.map((r, k) => [k, r.share] as const));
  const city = draw.pick(REGIONS[region]!.cities);
  const role = draw.weighted(Object.entries(ROLES).map(([name, r]) => [name, r.share] as const));
  const contractor = (role === "engineering" || role === "support") && draw.chance(SHARES.contractor / 0.48);
  const laptop = (n: number): Laptop => ({ id: `lt-${i}-${n}`, browser: draw.weighted(BROWSERS.laptop) });
  const travels = !contractor && draw.chance(SHARES.traveller);
  const placeIndex = draw.int(0, ELSEWHERE.length - 3);
  const from = draw.int(3, days - 8);
  return {
    id: `user${String(i).padStart(4, "0")}@example.com`,
    region,
    home: [city[0] + draw.between(-0.3, 0.3), city[1] + draw.between(-0.3, 0.3)],
    isp: ASN.residential(region, draw.int(0, RESIDENTIAL_PER_REGION - 1)),
    mobile: ASN.mobile(region, draw.int(0, MOBILE_PER_REGION - 1)),
    uses: [...COMMON_USES, ...ROLES[role]!.uses],
    contractor,
    passkey: draw.chance(contractor ? SHARES.contractorPasskey : ROLES[role]!.passkey),
    laptops: [laptop(0), laptop(1)],
    newLaptopDay: !contractor && draw.chance(SHARES.newLaptop) ? draw.int(5, days - 5) : days,
    phone: !contractor && draw.chance(SHARES.phone) ? { id: `ph-${i}`, browser: draw.weighted(BROWSERS.mobile) } : null,
    personal: draw.chance(SHARES.personalDevice) ? draw.weighted(BROWSERS.laptop) : null,
    remoteShare: contractor ? 1 : draw.between(0.2, 1),
    vpn: draw.chance(SHARES.vpnHabit) ? { asn: ASN.vpn(draw.int(0, VPN_PROVIDERS - 1)), region: draw.chance(0.8) ? region : draw.int(0, REGIONS.length - 1) } : null,
    trip: travels ? { from, to: from + draw.int(3, 6), place: ELSEWHERE[placeIndex]!, placeIndex, asn: ASN.travel(placeIndex, draw.int(0, 3)) } : null,
    startHour: draw.between(7.5, 10),
    weekendWorker: draw.chance(SHARES.weekendWorker),
    session: null,
    sessionDay: -100,
  };
}

function workday(draw: Draw, p: Person, day: number, start: number): LoginEvent[] {
  const weekend = day % 7 >= 5;
  if (weekend && !(p.weekendWorker && draw.chance(0.3))) return [];
  const trip = p.trip;
  // The days a trip starts and ends are spent travelling.
  if (trip && (day === trip.from - 1 || day === trip.to)) return [];
  const away = trip !== null && day >= trip.from && day < trip.to;
  const count = draw.poisson(weekend ? 1 : ACCESSES_PER_DAY);
  if (count === 0) return [];
  const offset = away ? trip.place.utcOffset : REGIONS[p.region]!.utcOffset;
  const midnight = start + day * DAY;
  const hours = Array.from({ length: count }, () =>
    draw.chance(SHARES.evening) ? draw.between(19, 23) : p.startHour + draw.between(0, 9),
  ).sort((a, b) => a - b);
  const times = hours.map((h) => Math.round(midnight + (h - offset) * HOUR));
  const where: "office" | "home" | "away" = away ? "away" : !weekend && !draw.chance(p.remoteShare) ? "office" : "home";
  const vpnToday = where === "home" && p.vpn !== null && draw.chance(SHARES.vpnDays);
  // A new session on the day's first access, unless yesterday's is remembered (up to three days).
  if (!(p.session && day - p.sessionDay <= 3 && draw.chance(SHARES.keptSession))) {
    p.session = habitSession(p, `${p.id}#${day}`, times[0]! - draw.int(5, 120));
    p.sessionDay = day;
  }
  return times.map((time) => {
    const device = deviceFor(draw, p, day);
    const [app, action] = draw.weighted((device.kind === "personal" ? COMMON_USES.slice(0, 2) : p.uses).map(([a, b, w]) => [[a, b] as const, w] as const));
    const { network, place } = networkFor(draw, p, where, device.kind === "phone", vpnToday);
    return {
      time,
      label: "legitimate",
      subject: { id: p.id, roles: [], privilege_granted_at: null },
      session: p.session,
      device: device.posture,
      network,
      place,
      browser: device.browser,
      target: { app, action },
      failures_before: draw.chance(SHARES.typo) ? draw.int(1, 2) : 0,
    } satisfies LoginEvent;
  });
}

function habitSession(p: Person, id: string, authTime: number): Session {
  return p.passkey ? { id, acr: "phr", amr: ["hwk", "pin"], auth_time: authTime } : { id, acr: null, amr: ["pwd", "otp"], auth_time: authTime };
}

function deviceFor(draw: Draw, p: Person, day: number): { kind: "laptop" | "phone" | "personal" | "own"; posture: Device | null; browser: string } {
  if (p.contractor) return { kind: "own", posture: null, browser: p.laptops[0]!.browser };
  if (p.personal !== null && draw.chance(SHARES.personalDeviceUse)) return { kind: "personal", posture: null, browser: p.personal };
  if (p.phone && draw.chance(SHARES.phoneUse)) return { kind: "phone", posture: managed(p.phone.id, "mobile", draw), browser: p.phone.browser };
  const laptop = p.laptops[day >= p.newLaptopDay ? 1 : 0]!;
  return { kind: "laptop", posture: managed(laptop.id, "laptop", draw), browser: laptop.browser };
}

function managed(id: string, kind: "laptop" | "mobile", draw: Draw): Device {
  return { id, attested: true, managed: true, compliant: true, encrypted: true, edr_running: true, os_patch_age_days: draw.int(0, 25), kind };
}

function networkFor(draw: Draw, p: Person, where: "office" | "home" | "away", phone: boolean, vpnToday: boolean): { network: Network; place: Place } {
  const region = REGIONS[p.region]!;
  if (where === "away") {
    const [lat, lon] = p.trip!.place.cities[0]!;
    return { network: external(p.trip!.asn), place: { country: p.trip!.place.country, lat, lon, accuracy_km: 20 } };
  }
  if (where === "office" && !(phone && draw.chance(0.3))) {
    return {
      network: { asn: ASN.corporate, zone: "corporate", reputation: "good", anonymizer: "none" },
      place: { country: region.country, lat: p.home[0], lon: p.home[1], accuracy_km: 10 },
    };
  }
  if (phone && (where === "office" || draw.chance(0.5))) {
    return { network: external(p.mobile), place: { country: region.country, lat: p.home[0] + draw.between(-0.5, 0.5), lon: p.home[1] + draw.between(-0.5, 0.5), accuracy_km: 100 } };
  }
  if (vpnToday) {
    const exit = REGIONS[p.vpn!.region]!;
    const [lat, lon] = exit.cities[0]!;
    return { network: { asn: p.vpn!.asn, zone: "external", reputation: "neutral", anonymizer: "vpn" }, place: { country: exit.country, lat, lon, accuracy_km: 50 } };
  }
  return { network: external(p.isp), place: { country: region.country, lat: p.home[0], lon: p.home[1], accuracy_km: 20 } };
}

function external(asn: number, reputation: Input["network"]["reputation"] = "neutral"): Network {
  return { asn, zone: "external", reputation, anonymizer: "none" };
}

// ---- attacks ----------------------------------------------------------------------------------

function attacks(draw: Draw, people: readonly Person[], total: number, days: number, start: number): LoginEvent[] {
  const out: LoginEvent[] = [];
  const classes = Object.entries(ATTACK_MIX) as [AttackClass, number][];
  let n = 0;
  for (const [label, share] of classes) {
    const count = Math.round(total * share);
    for (let k = 0; k < count; k++) out.push(...attack(draw, label, people, days, start, n++));
  }
  return out;
}

function attack(draw: Draw, label: AttackClass, people: readonly Person[], days: number, start: number, n: number): LoginEvent[] {
  const phishable = label === "phishing_proxy";
  let victim = draw.pick(people);
  while (phishable && victim.passkey) victim = draw.pick(people);
  const day = draw.int(7, days - 1);
  const region = REGIONS[victim.region]!;
  const working = label === "targeted" || label === "phishing_proxy" || label === "insider_privilege";
  const localHour = working ? victim.startHour + draw.between(0, 8) : draw.between(0, 24);
  const time = Math.round(start + day * DAY + (localHour - region.utcOffset) * HOUR);
  const [app, action] = label === "insider_privilege" ? draw.pick(PRIVILEGED) : draw.chance(0.5) ? draw.pick(ATTACKER_TARGETS) : pickUse(draw, victim);
  const base = { time, label, subject: { id: victim.id, roles: [], privilege_granted_at: null }, target: { app, action }, failures_before: 0 };
  const stolen = (minAge: number, maxAge: number): Session => habitSession(victim, `stolen-${n}`, time - draw.int(minAge, maxAge));
  const phished = (): Session => ({ id: `phished-${n}`, acr: null, amr: ["pwd", "otp"], auth_time: time - draw.int(30, 600) });
  switch (label) {
    case "credential_stuffing":
    case "vpn": {
      const foreign = label === "vpn" ? !draw.chance(0.5) : !draw.chance(0.15);
      const at = foreign ? draw.pick(ELSEWHERE) : region;
      const asn = label === "vpn" ? ASN.vpn(draw.int(0, VPN_PROVIDERS - 1)) : ASN.hosting(draw.int(0, HOSTING_PROVIDERS - 1));
      const reputation = label === "credential_stuffing" && draw.chance(0.4) ? "suspicious" : "neutral";
      return [{ ...base, session: stolen(2 * HOUR, 12 * HOUR), device: null, network: { asn, zone: "external", reputation, anonymizer: label === "vpn" ? "vpn" : "hosting" }, place: cityOf(at, draw, 50), browser: draw.chance(0.7) ? "Chrome" : null }];
    }
    case "targeted": {
      const sameIsp = draw.chance(0.25);
      const place = draw.chance(0.4) ? { country: region.country, lat: victim.home[0] + draw.between(-0.2, 0.2), lon: victim.home[1] + draw.between(-0.2, 0.2), accuracy_km: 20 } : cityOf(region, draw, 20);
      const session = !victim.passkey && draw.chance(0.5) ? phished() : stolen(HOUR, 10 * HOUR);
      return [{ ...base, session, device: null, network: external(sameIsp ? victim.isp : ASN.residential(victim.region, draw.int(0, RESIDENTIAL_PER_REGION - 1))), place, browser: victim.laptops[0]!.browser }];
    }
    case "phishing_proxy": {
      const how = draw.weighted([["hosting", 50], ["residential", 30], ["vpn", 20]] as const);
      const network: Network =
        how === "hosting" ? { asn: ASN.hosting(draw.int(0, HOSTING_PROVIDERS - 1)), zone: "external", reputation: "neutral", anonymizer: "hosting" }
        : how === "vpn" ? { asn: ASN.vpn(draw.int(0, VPN_PROVIDERS - 1)), zone: "external", reputation: "neutral", anonymizer: "vpn" }
        : external(ASN.residential(victim.region, draw.int(0, RESIDENTIAL_PER_REGION - 1)));
      const place = how === "residential" ? cityOf(region, draw, 20) : cityOf(draw.chance(0.5) ? region : draw.pick(ELSEWHERE), draw, 50);
      return [{ ...base, session: phished(), device: null, network, place, browser: draw.chance(0.5) ? victim.laptops[0]!.browser : "Chrome" }];
    }
    case "token_replay": {
      const hosted = draw.chance(0.5);
      const at = draw.chance(0.5) ? region : draw.pick(ELSEWHERE);
      const network: Network = hosted
        ? { asn: ASN.hosting(draw.int(0, HOSTING_PROVIDERS - 1)), zone: "external", reputation: "neutral", anonymizer: "hosting" }
        : external(ASN.residential(draw.int(0, REGIONS.length - 1), draw.int(0, RESIDENTIAL_PER_REGION - 1)));
      return [{ ...base, session: stolen(HOUR, 20 * HOUR), device: null, network, place: cityOf(at, draw, 30), browser: draw.pick(["Chrome", "Firefox", "Safari"]) }];
    }
    case "mfa_fatigue": {
      // A password alone, and push after push: the same request again until the person gives in.
      const at = draw.pick(ELSEWHERE);
      const session: Session = { id: `fatigue-${n}`, acr: null, amr: ["pwd"], auth_time: time - 60 };
      const network: Network = { asn: ASN.hosting(draw.int(0, HOSTING_PROVIDERS - 1)), zone: "external", reputation: "neutral", anonymizer: "hosting" };
      return Array.from({ length: 6 }, (_, k) => ({ ...base, time: time + k * 45, session, device: null, network, place: cityOf(at, draw, 50), browser: "Chrome" }));
    }
    case "insider_privilege": {
      const laptop = victim.laptops[0]!;
      const authAge = draw.int(2 * HOUR, 8 * HOUR);
      const session = habitSession(victim, `insider-${n}`, time - authAge);
      const granted = time - draw.int(10 * 60, authAge - 10 * 60);
      return [{
        ...base,
        subject: { ...base.subject, privilege_granted_at: granted },
        session,
        device: victim.contractor ? null : managed(laptop.id, "laptop", draw),
        network: external(victim.isp),
        place: { country: region.country, lat: victim.home[0], lon: victim.home[1], accuracy_km: 20 },
        browser: laptop.browser,
      }];
    }
  }
}

function pickUse(draw: Draw, p: Person): readonly [string, string] {
  return draw.weighted(p.uses.map(([a, b, w]) => [[a, b] as const, w] as const));
}

function cityOf(region: Region, draw: Draw, accuracyKm: number): Place {
  const [lat, lon] = draw.pick(region.cities);
  return { country: region.country, lat, lon, accuracy_km: accuracyKm };
}
