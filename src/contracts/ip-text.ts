/**
 * The text of an IP address, as the input contract accepts it: the address forms of RFC 3986
 * section 3.2.2 — IPv4 without leading zeros, IPv6 as RFC 4291 writes it, the last 32 bits
 * possibly as an IPv4 address (`::ffff:198.51.100.7`). One pattern for the SDK's check and the
 * published JSON Schema, so that the two accept the same addresses; free of Node's APIs, as the
 * contracts are. (address.ts makes such text canonical for the collectors.)
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
