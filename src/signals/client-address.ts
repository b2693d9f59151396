/**
 * The client's address: the socket's peer, unless that peer is a configured trusted proxy, in
 * which case X-Forwarded-For is walked from the right across trusted proxies only. The first hop
 * that is not a trusted proxy is the client. A header from an untrusted peer is ignored whole,
 * so nobody can choose their own address by sending one.
 */
import { normalizeIp } from "../contracts/address.js";
import { AddressSet } from "./ip.js";

/** At most this many hops are read from X-Forwarded-For; a longer chain leaves the client unknown. */
export const MAX_FORWARDED_HOPS = 32;
const MAX_HEADER_LENGTH = 4096;

export interface ClientAddress {
  /** The client's canonical address, or null when it cannot be established. */
  readonly ip: string | null;
  /** Why the address is unknown or where it came from, for logs (never the header itself). */
  readonly source: "peer" | "forwarded" | "unknown";
  readonly note?: string;
}

/**
 * @example
 * const proxies = new AddressSet(); proxies.add("127.0.0.1");
 * clientAddress("127.0.0.1", "203.0.113.9, 127.0.0.1", proxies); // { ip: "203.0.113.9", source: "forwarded" }
 */
export function clientAddress(
  peer: string | null | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trusted: AddressSet,
): ClientAddress {
  const direct = normalizeIp(peer);
  if (!direct) return { ip: null, source: "unknown", note: "peer address missing or malformed" };
  if (!trusted.has(direct) || forwardedFor === undefined) return { ip: direct, source: "peer" };
  const header = typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(",");
  if (header.length > MAX_HEADER_LENGTH) return { ip: null, source: "unknown", note: "X-Forwarded-For too long" };
  const hops = header.split(",").map((h) => h.trim());
  if (hops.length === 1 && hops[0] === "") return { ip: direct, source: "peer" };
  let last = direct;
  for (let i = hops.length - 1, seen = 0; i >= 0; i--, seen++) {
    if (seen >= MAX_FORWARDED_HOPS) return { ip: null, source: "unknown", note: "X-Forwarded-For has too many hops" };
    const hop = normalizeIp(hops[i]);
    // A malformed hop breaks the chain of trust: what lies left of it cannot be believed.
    if (!hop) return { ip: null, source: "unknown", note: "X-Forwarded-For has a malformed hop" };
    if (!trusted.has(hop)) return { ip: hop, source: "forwarded" };
    last = hop;
  }
  // Every hop is a trusted proxy: the leftmost is the client (an internal caller).
  return { ip: last, source: "forwarded" };
}
