/**
 * The text of an IP address, as the input contract accepts it: the address forms of RFC 3986
 * section 3.2.2 — IPv4 without leading zeros, IPv6 as RFC 4291 writes it, the last 32 bits
 * possibly as an IPv4 address (`::ffff:198.51.100.7`). One pattern for the SDK's check and the
 * published JSON Schema, so that the two accept the same addresses; free of Node's APIs, as the
 * contracts are. (address.ts makes such text canonical for the collectors.)
 *
 * `isIpText` takes the same language without the regular expression: V8 compiles a pattern on its
 * first use, and this one costs it milliseconds, which a cold start's first decision paid. The
 * Rego contract checks addresses with the same steps (input-rego.ts); a property test holds both
 * functions to the pattern (test/contracts/ip-text.test.ts).
 */
const DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const H16 = "[0-9a-fA-F]{1,4}";
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** `[ *(n-1)( h16 ":" ) h16 ]`: up to n groups before a `::`. */
const upTo = (n: number) => `(?:(?:${H16}:){0,${n - 1}}${H16})?`;
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `${upTo(1)}::(?:${H16}:){4}${LS32}`,
  `${upTo(2)}::(?:${H16}:){3}${LS32}`,
  `${upTo(3)}::(?:${H16}:){2}${LS32}`,
  `${upTo(4)}::${H16}:${LS32}`,
  `${upTo(5)}::${LS32}`,
  `${upTo(6)}::${H16}`,
  `${upTo(7)}::`,
].join("|");

/** An IPv4 or IPv6 address in text, IPv4-mapped and other embedded-IPv4 forms included. */
export const IP_PATTERN = `^(?:${IPV4}|${IPV6})$`;
/** The longest such text: six groups and an IPv4 address. */
export const IP_MAX_LENGTH = 45;

/** Whether the text is an address as IP_PATTERN takes it, decided without a regular expression. */
export function isIpText(text: string): boolean {
  if (!text.includes(":")) return isIpv4Text(text);
  // At most one "::", standing for at least one group: eight groups without it, seven at most with it.
  const halves = text.split("::");
  if (halves.length === 1) return ipv6Units(text.split(":")) === 8;
  return halves.length === 2 && ipv6Head(halves[0]!) + ipv6Tail(halves[1]!) <= 7;
}

function isIpv4Text(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every(isDecOctet);
}

/** Decimal digits only, no leading zero, at most 255. */
function isDecOctet(text: string): boolean {
  if (text.length < 1 || text.length > 3 || (text.length > 1 && text[0] === "0")) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(text) <= 255;
}

function isH16(text: string): boolean {
  if (text.length < 1 || text.length > 4) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** The groups before a "::": hexadecimal only (Infinity: not groups). */
function ipv6Head(text: string): number {
  if (text === "") return 0;
  const groups = text.split(":");
  return groups.every(isH16) ? groups.length : Infinity;
}

function ipv6Tail(text: string): number {
  return text === "" ? 0 : ipv6Units(text.split(":"));
}

/** Groups of sixteen bits the list stands for: the last may be an IPv4 address, which stands for two (Infinity: not groups). */
function ipv6Units(groups: readonly string[]): number {
  const last = groups.length - 1;
  if (!groups.slice(0, last).every(isH16)) return Infinity;
  if (isH16(groups[last]!)) return groups.length;
  return isIpv4Text(groups[last]!) ? groups.length + 1 : Infinity;
}
