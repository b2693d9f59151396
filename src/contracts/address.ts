/**
 * IP address text made canonical, or null: part of the contract, because the input, the edge
 * settings and the address lists accept addresses in the same forms. Everything that takes an
 * address from a socket, a header or a list goes through here, so `::ffff:198.51.100.7`, `198.51.100.7:443` and
 * `[2001:db8::1]` compare equal to their plain forms and nothing else is ever trusted as one.
 */
import { nodeNet } from "../lazy.js";

export type Family = "ipv4" | "ipv6";

const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;
const V4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const V6_BRACKETS = /^\[([^\]]+)\](?::\d{1,5})?$/;

/** The canonical text of an address (IPv4-mapped IPv6 becomes IPv4), or null when it is not one. */
export function normalizeIp(raw: string | null | undefined): string | null {
  if (typeof raw !== "string") return null;
  let text = raw.trim();
  if (text.length === 0 || text.length > 64) return null;
  const bracketed = V6_BRACKETS.exec(text);
  if (bracketed?.[1]) text = bracketed[1];
  else {
    const withPort = V4_PORT.exec(text);
    if (withPort?.[1]) text = withPort[1];
  }
  const family = nodeNet().isIP(text);
  if (family === 4) return text;
  // A zone id (fe80::1%eth0) names a local interface, never a client on the internet.
  if (family !== 6 || text.includes("%")) return null;
  const canonical = new (nodeNet().SocketAddress)({ address: text, family: "ipv6" }).address;
  return unmapped(canonical) ?? canonical;
}

function unmapped(v6: string): string | null {
  const dotted = MAPPED_DOTTED.exec(v6);
  if (dotted?.[1]) return nodeNet().isIP(dotted[1]) === 4 ? dotted[1] : null;
  const hex = MAPPED_HEX.exec(v6);
  if (!hex?.[1] || !hex[2]) return null;
  const hi = Number.parseInt(hex[1], 16);
  const lo = Number.parseInt(hex[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** The family of a canonical address. */
export function familyOf(ip: string): Family {
  return nodeNet().isIP(ip) === 4 ? "ipv4" : "ipv6";
}

/** A network in CIDR notation, its base canonical; null when the text is not one. */
export function parseCidr(entry: string): { readonly base: string; readonly prefix: number; readonly family: Family } | null {
  const slash = entry.indexOf("/");
  if (slash < 0) return null;
  const base = normalizeIp(entry.slice(0, slash));
  const prefixText = entry.slice(slash + 1).trim();
  if (!base || !/^\d{1,3}$/.test(prefixText)) return null;
  const family = familyOf(base);
  const prefix = Number(prefixText);
  if (prefix > (family === "ipv4" ? 32 : 128)) return null;
  return { base, prefix, family };
}

/** Whether the text is an address or a network in CIDR notation. */
export function isAddressOrCidr(entry: string): boolean {
  return entry.includes("/") ? parseCidr(entry) !== null : normalizeIp(entry) !== null;
}
