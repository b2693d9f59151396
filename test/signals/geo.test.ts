import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GeoDatabaseInvalidError } from "../../src/errors.js";
import { GeoLocator, defaultCountryDb } from "../../src/signals/geo.js";
import { greatCircleKm } from "../../src/signals/great-circle.js";

// Small mmdb files written by MaxMind's own writer (test/fixtures/geo/make-fixtures.pl).
const CITY = "test/fixtures/geo/test-city.mmdb";
const FLAT = "test/fixtures/geo/test-flat-city.mmdb";
const ASN = "test/fixtures/geo/test-asn.mmdb";

describe("geography", () => {
  it("reads country, coordinates, accuracy radius and ASN from GeoIP2-shaped databases", async () => {
    const geo = await GeoLocator.open({ cityDb: CITY, asnDb: ASN });
    expect(geo.lookup("198.51.100.7")).toEqual({ country: "FR", lat: 48.8566, lon: 2.3522, accuracy_km: 20, asn: 64500 });
    expect(geo.lookup("2001:db8::1")).toEqual({ country: "US", lat: 40.7128, lon: -74.006, accuracy_km: 100, asn: 64503 });
  });

  it("reads ip-location-db's flat city shape, with the accuracy it is told to assume", async () => {
    const plain = await GeoLocator.open({ cityDb: FLAT, countryDb: false });
    expect(plain.lookup("203.0.113.9")).toMatchObject({ country: "JP", lat: 35.6762, lon: 139.6503, accuracy_km: null });
    const assumed = await GeoLocator.open({ cityDb: FLAT, countryDb: false, assumedAccuracyKm: 50 });
    expect(assumed.lookup("203.0.113.9").accuracy_km).toBe(50);
  });

  it("locates public addresses by country with the bundled database, IPv4 and IPv6", async () => {
    const geo = await GeoLocator.open();
    for (const ip of ["1.1.1.1", "8.8.8.8", "2a00:1450:4001::1"]) {
      const place = geo.lookup(ip);
      expect(place.country, ip).toMatch(/^[A-Z]{2}$/);
      expect([place.lat, place.lon, place.accuracy_km, place.asn]).toEqual([null, null, null, null]);
    }
  });

  it("never locates loopback, private, shared or link-local addresses (the bundled data places some), nor no address", async () => {
    const geo = await GeoLocator.open({ asnDb: ASN });
    for (const ip of ["127.0.0.1", "::1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "100.64.0.1", "fd00::1", "fe80::1"]) expect(geo.lookup(ip).country, ip).toBeNull();
    expect(geo.lookup(null)).toEqual({ country: null, lat: null, lon: null, accuracy_km: null, asn: null });
  });

  it("ships the default database inside the package", () => {
    expect(defaultCountryDb()).toMatch(/geo-whois-asn-country\.mmdb$/);
  });

  it("refuses a database that is missing or is not an mmdb file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stepup-geo-"));
    try {
      const junk = join(dir, "junk.mmdb");
      await writeFile(junk, "not a database");
      await expect(GeoLocator.open({ cityDb: join(dir, "missing.mmdb") })).rejects.toThrow(GeoDatabaseInvalidError);
      await expect(GeoLocator.open({ asnDb: junk })).rejects.toThrow(GeoDatabaseInvalidError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("great-circle distance", () => {
  it("matches known distances", () => {
    // Reference values on the mean sphere: Paris–Tokyo 9,712 km, Paris–Lyon 392 km, New York–London 5,570 km.
    expect(greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 35.6762, lon: 139.6503 })).toBeCloseTo(9712, -1);
    expect(greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 45.764, lon: 4.8357 })).toBeCloseTo(392, -1);
    expect(greatCircleKm({ lat: 40.7128, lon: -74.006 }, { lat: 51.5074, lon: -0.1278 })).toBeCloseTo(5570, -1);
  });

  it("is zero for one point, symmetric, and at most half the circumference", () => {
    const a = { lat: -33.87, lon: 151.21 };
    const b = { lat: 51.5, lon: -0.13 };
    expect(greatCircleKm(a, a)).toBe(0);
    expect(greatCircleKm(a, b)).toBeCloseTo(greatCircleKm(b, a), 9);
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});
