/**
 * The organisation the generated stream describes (docs/evaluation.md): where people work, which
 * networks they use, what apps each role reaches, how they authenticate. Numbers are the model's
 * assumptions, written once here; the generator (generate.ts) draws from them with a seeded
 * random source, so the same seed gives the same stream.
 */

export interface Region {
  readonly country: string;
  /** Hours from UTC (standard time; the model ignores daylight saving). */
  readonly utcOffset: number;
  readonly cities: readonly (readonly [number, number])[];
  /** Share of employees based here. */
  readonly share: number;
}

export const REGIONS: readonly Region[] = [
  { country: "US", utcOffset: -5, cities: [[40.71, -74.01], [41.88, -87.63], [30.27, -97.74], [37.77, -122.42]], share: 0.35 },
  { country: "DE", utcOffset: 1, cities: [[52.52, 13.4], [48.14, 11.58], [50.11, 8.68]], share: 0.2 },
  { country: "GB", utcOffset: 0, cities: [[51.51, -0.13], [53.48, -2.24]], share: 0.15 },
  { country: "FR", utcOffset: 1, cities: [[48.86, 2.35], [45.76, 4.84]], share: 0.1 },
  { country: "IN", utcOffset: 5, cities: [[12.97, 77.59], [19.08, 72.88]], share: 0.15 },
  { country: "BR", utcOffset: -3, cities: [[-23.55, -46.63]], share: 0.05 },
];

/** Where people travel to and where attackers' infrastructure sits, beyond the offices' countries. */
export const ELSEWHERE: readonly Region[] = [
  { country: "JP", utcOffset: 9, cities: [[35.68, 139.69]], share: 0 },
  { country: "SG", utcOffset: 8, cities: [[1.35, 103.82]], share: 0 },
  { country: "ES", utcOffset: 1, cities: [[40.42, -3.7]], share: 0 },
  { country: "NL", utcOffset: 1, cities: [[52.37, 4.9]], share: 0 },
  { country: "CA", utcOffset: -5, cities: [[43.65, -79.38]], share: 0 },
  { country: "AU", utcOffset: 10, cities: [[-33.87, 151.21]], share: 0 },
  { country: "RU", utcOffset: 3, cities: [[55.76, 37.62]], share: 0 },
  { country: "NG", utcOffset: 1, cities: [[6.52, 3.38]], share: 0 },
];

/**
 * Network numbers, all from the private-use range (RFC 6996) so that none names a real network:
 * the company's own, residential and mobile providers per country, hotels' and travel networks,
 * commercial VPNs and hosting providers.
 */
export const ASN = {
  corporate: 64512,
  residential: (region: number, i: number) => 64600 + region * 20 + i,
  mobile: (region: number, i: number) => 64610 + region * 20 + i,
  travel: (place: number, i: number) => 64900 + place * 4 + i,
  vpn: (i: number) => 65100 + i,
  hosting: (i: number) => 65200 + i,
};
export const RESIDENTIAL_PER_REGION = 6;
export const MOBILE_PER_REGION = 2;
export const VPN_PROVIDERS = 5;
export const HOSTING_PROVIDERS = 12;

/**
 * What each role reaches, with how often: [app, action, weight]. Everyone also reads the intranet,
 * the wiki, and now and then their payslip. `passkey`: the share of the role who sign in with a
 * passkey every day (the others use a password and a one-time code, and have a passkey enrolled
 * for when a step-up asks for it); roles that use sensitive apps daily mostly sign in with one.
 */
export const ROLES: Readonly<Record<string, { readonly share: number; readonly passkey: number; readonly uses: readonly (readonly [string, string, number])[] }>> = {
  engineering: { share: 0.35, passkey: 0.5, uses: [["ci", "read", 30], ["ci", "deploy", 3], ["wiki", "write", 8], ["crm", "read", 2]] },
  sre: { passkey: 0.95, share: 0.04, uses: [["ci", "read", 20], ["ci", "deploy", 6], ["prod-secrets", "read", 6], ["admin-console", "read", 3]] },
  sales: { passkey: 0.5, share: 0.2, uses: [["crm", "read", 40], ["crm", "write", 15], ["crm", "export", 1]] },
  support: { passkey: 0.5, share: 0.13, uses: [["crm", "read", 35], ["crm", "write", 6], ["wiki", "write", 4]] },
  finance: { passkey: 0.95, share: 0.08, uses: [["finance-ledger", "read", 30], ["finance-ledger", "write", 5], ["finance-ledger", "approve", 3], ["payroll", "read", 4]] },
  hr: { passkey: 0.95, share: 0.05, uses: [["payroll", "read", 30], ["payroll", "write", 8]] },
  it_admin: { passkey: 0.95, share: 0.04, uses: [["admin-console", "read", 25], ["admin-console", "admin", 4], ["prod-secrets", "read", 3]] },
  management: { passkey: 0.9, share: 0.06, uses: [["crm", "read", 10], ["finance-ledger", "read", 8], ["finance-ledger", "approve", 2], ["payroll", "read", 3]] },
  other: { passkey: 0.5, share: 0.05, uses: [] },
};
export const COMMON_USES: readonly (readonly [string, string, number])[] = [
  ["intranet", "read", 25],
  ["wiki", "read", 20],
  ["payroll", "read", 0.5],
];

/** Privileged actions an insider with a privilege just granted would use. */
export const PRIVILEGED: readonly (readonly [string, string])[] = [
  ["admin-console", "admin"],
  ["prod-secrets", "read"],
  ["ci", "deploy"],
  ["finance-ledger", "approve"],
  ["payroll", "write"],
];

/** What attackers go for once in: sensitive apps and actions. */
export const ATTACKER_TARGETS: readonly (readonly [string, string])[] = [
  ["payroll", "read"],
  ["payroll", "write"],
  ["crm", "export"],
  ["finance-ledger", "approve"],
  ["prod-secrets", "read"],
  ["wiki", "read"],
  ["intranet", "read"],
  ["crm", "read"],
];

export const BROWSERS = {
  laptop: [["Chrome", 55], ["Microsoft Edge", 30], ["Firefox", 10], ["Safari", 5]] as const,
  mobile: [["Safari", 60], ["Chrome", 40]] as const,
};

export const SHARES = {
  /** Contractors on their own laptops, with no posture statement. */
  contractor: 0.05,
  /**
   * Contractors who sign in with a passkey on their own laptop: an organisation that lets people
   * work from devices it does not manage asks them for phishing-resistant sign-in.
   */
  contractorPasskey: 0.9,
  /** People who also use a managed phone. */
  phone: 0.25,
  /** Of a phone user's accesses, those from the phone. */
  phoneUse: 0.2,
  /** People who now and then read the intranet or wiki from a personal device. */
  personalDevice: 0.03,
  personalDeviceUse: 0.05,
  /** People who get a new laptop during the period. */
  newLaptop: 0.02,
  /** People who use a commercial VPN at home, and on how many of their home days. */
  vpnHabit: 0.04,
  vpnDays: 0.5,
  /** People who travel once during the period. */
  traveller: 0.1,
  /**
   * Sessions kept from one day to the next (a browser left open past the identity provider's
   * daily sign-in), up to three days.
   */
  keptSession: 0.03,
  /** Accesses preceded by a mistyped password or two. */
  typo: 0.03,
  /** Accesses in the evening, and people who also work at weekends. */
  evening: 0.08,
  weekendWorker: 0.1,
};

/** Accesses per person per working day, on average. */
export const ACCESSES_PER_DAY = 2.8;

/** The attack mix: of all attacks, the share of each class. */
export const ATTACK_MIX = {
  credential_stuffing: 0.18,
  vpn: 0.15,
  targeted: 0.22,
  phishing_proxy: 0.22,
  token_replay: 0.12,
  mfa_fatigue: 0.06,
  insider_privilege: 0.05,
} as const;
