/** Great-circle distance on the mean Earth sphere (haversine); precise to well under 0.5%. */

/** Mean Earth radius in kilometres (IUGG). */
const EARTH_RADIUS_KM = 6371.0088;

export interface Point {
  readonly lat: number;
  readonly lon: number;
}

/**
 * Kilometres between two points given in degrees.
 * @example
 * greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 35.6762, lon: 139.6503 }); // ≈ 9712 (Paris–Tokyo)
 */
export function greatCircleKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
