/**
 * Where an address is: country, coordinates with their accuracy radius, and ASN, read with the
 * `maxmind` reader. By default a country database that may be redistributed ships with stepup
 * (@ip-location-db/geo-whois-asn-country-mmdb); a city database (GeoLite2/GeoIP2 City, DB-IP
 * City Lite) and an ASN database (GeoLite2 ASN or similar) are the user's own files. Values that
 * are missing or out of range stay null: an unknown place is never guessed.
 */
import { createRequire } from "node:module";
import type { Reader, Response } from "maxmind";
import { GeoDatabaseInvalidError } from "../errors.js";
import { maxmind } from "../lazy.js";
import { AddressSet } from "./ip.js";

export interface GeoOptions {
  /** A country database; defaults to the bundled one, `false` for none. */
  readonly countryDb?: string | false;
  /** A city database with coordinates (GeoIP2/GeoLite2 City, or ip-location-db's dbip-city). */
  readonly cityDb?: string;
  /** An ASN database (GeoLite2 ASN, or any mmdb with `autonomous_system_number`). */
  readonly asnDb?: string;
  /** Accuracy radius (km) to assume when a city database gives none (DB-IP Lite); default unknown. */
  readonly assumedAccuracyKm?: number | null;
}

/** What the databases say about an address. */
export interface Place {
  readonly country: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly accuracy_km: number | null;
  readonly asn: number | null;
}

let notOnTheMap: AddressSet | undefined;

/**
 * Addresses that have no place on the map (RFC 6890 special-purpose: private, loopback,
 * link-local, shared, multicast, unique-local). Databases sometimes place them anyway; the
 * bundled one puts some private ranges in a country. They are never located. Built on first use
 * rather than when the SDK is imported: a service that locates no address does not pay for it.
 */
function offTheMap(): AddressSet {
  if (notOnTheMap) return notOnTheMap;
  notOnTheMap = new AddressSet();
  for (const cidr of [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
  ]) notOnTheMap.add(cidr);
  notOnTheMap.prepare();
  return notOnTheMap;
}

const NOWHERE: Place = { country: null, lat: null, lon: null, accuracy_km: null, asn: null };

/** The bundled country database (CC0 data from the NRO's RIR statistics, via ip-location-db). */
export function defaultCountryDb(): string {
  return createRequire(import.meta.url).resolve("@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb");
}

type Record_ = Record<string, unknown>;

export class GeoLocator {
  private constructor(
    private readonly country: Reader<Response> | null,
    private readonly city: Reader<Response> | null,
    private readonly asn: Reader<Response> | null,
    private readonly assumedAccuracyKm: number | null,
  ) {}

  /** Opens the databases; a file that is missing or not an mmdb is a `GeoDatabaseInvalidError`. */
  static async open(options: GeoOptions = {}): Promise<GeoLocator> {
    const countryPath = options.countryDb === undefined ? defaultCountryDb() : options.countryDb;
    const [country, city, asn] = await Promise.all([
      countryPath ? openDb(countryPath) : null,
      options.cityDb ? openDb(options.cityDb) : null,
      options.asnDb ? openDb(options.asnDb) : null,
    ]);
    return new GeoLocator(country, city, asn, options.assumedAccuracyKm ?? null);
  }

  /** The place of a canonical address (see `normalizeIp`); all null when no database knows it. */
  lookup(ip: string | null): Place {
    if (ip === null || offTheMap().has(ip)) return NOWHERE;
    const cityRecord = get(this.city, ip);
    const countryRecord = cityRecord ? null : get(this.country, ip);
    const asnRecord = get(this.asn, ip);
    const lat = coordinate(cityRecord, "latitude", 90);
    const lon = coordinate(cityRecord, "longitude", 180);
    const located = lat !== null && lon !== null;
    return {
      country: countryOf(cityRecord) ?? countryOf(countryRecord),
      lat: located ? lat : null,
      lon: located ? lon : null,
      accuracy_km: located ? (accuracyOf(cityRecord) ?? this.assumedAccuracyKm) : null,
      asn: asnOf(asnRecord) ?? asnOf(cityRecord),
    };
  }
}

async function openDb(path: string): Promise<Reader<Response>> {
  try {
    return await maxmind().open<Response>(path, { cache: { max: 10_000 } });
  } catch (err) {
    throw new GeoDatabaseInvalidError(path, (err as Error).message, { cause: err });
  }
}

// An IPv6 address asked of an IPv4-only database throws; for us it is simply not there.
function get(reader: Reader<Response> | null, ip: string): Record_ | null {
  if (!reader) return null;
  try {
    return reader.get(ip) as Record_ | null;
  } catch {
    return null;
  }
}

// GeoIP2 nests (country.iso_code, location.latitude); ip-location-db is flat (country_code, latitude).
function countryOf(r: Record_ | null): string | null {
  if (!r) return null;
  const nested = (r.country as Record_ | undefined)?.iso_code;
  const code = typeof nested === "string" ? nested : r.country_code;
  return typeof code === "string" && /^[A-Z]{2}$/.test(code) && code !== "ZZ" ? code : null;
}

function coordinate(r: Record_ | null, key: "latitude" | "longitude", limit: number): number | null {
  if (!r) return null;
  const value = (r.location as Record_ | undefined)?.[key] ?? r[key];
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= limit ? round(value, 4) : null;
}

function accuracyOf(r: Record_ | null): number | null {
  const value = (r?.location as Record_ | undefined)?.accuracy_radius;
  return typeof value === "number" && value >= 0 && value <= 50_000 ? value : null;
}

function asnOf(r: Record_ | null): number | null {
  if (!r) return null;
  const value = r.autonomous_system_number ?? (r.traits as Record_ | undefined)?.autonomous_system_number;
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 4_294_967_295 ? value : null;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
