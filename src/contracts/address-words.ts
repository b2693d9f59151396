/**
 * Address text read straight into numbers, for the address lists: an IPv4 address as one
 * unsigned 32-bit integer, an IPv6 address as four 32-bit words (most significant first). Only
 * the plain forms are read here (a dotted quad without leading zeros; IPv6 hex groups with at
 * most one `::` and an optional dotted quad at the end); anything else — brackets, ports, zone
 * ids, spaces, IPv4-mapped IPv6 — is declined (`-1` / `false`), and callers take the contract's
 * slower path (`normalizeIp`), so what is accepted never differs from it.
 */

/** The address as an unsigned 32-bit integer, or -1 when `text[from, to)` is not a plain dotted quad. */
export function readIpv4(text: string, from = 0, to = text.length): number {
  let value = 0;
  let octets = 0;
  let i = from;
  while (i < to) {
    let octet = 0;
    let digits = 0;
    const first = i;
    while (i < to) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      octet = octet * 10 + c;
      digits++;
      i++;
    }
    // No leading zeros (`010` is octal to some readers), as Node's isIP decides.
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return -1;
    value = value * 256 + octet;
    octets++;
    if (i === to) break;
    if (text.charCodeAt(i) !== 46 || octets === 4) return -1;
    i++;
    if (i === to) return -1;
  }
  return octets === 4 ? value : -1;
}

/**
 * Reads `text[from, to)` as IPv6 into `out[at..at+3]`; false when it is not a plain IPv6 address
 * or is IPv4-mapped (which the contract reads as IPv4).
 */
export function readIpv6(text: string, out: Uint32Array, at = 0, from = 0, to = text.length): boolean {
  const groups = GROUPS;
  let count = 0;
  let gap = -1;
  let i = from;
  if (to - from < 2 || to - from > 45) return false;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    if (count === 8) return false;
    const start = i;
    let group = 0;
    while (i < to && i - start < 5) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      group = group * 16 + h;
      i++;
    }
    const digits = i - start;
    if (i < to && text.charCodeAt(i) === 46) {
      // A dotted quad in the last 32 bits (`64:ff9b::192.0.2.1`).
      if (count > 6) return false;
      const v4 = readIpv4(text, start, to);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = to;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = group;
    if (i === to) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < to && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === to) return false;
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const words = WORDS;
  words.fill(0);
  const tail = count - (gap < 0 ? count : gap);
  for (let g = 0; g < count - tail; g++) words[g] = groups[g]!;
  for (let g = 0; g < tail; g++) words[8 - tail + g] = groups[count - tail + g]!;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) return false;
  out[at] = ((words[0]! << 16) | words[1]!) >>> 0;
  out[at + 1] = ((words[2]! << 16) | words[3]!) >>> 0;
  out[at + 2] = ((words[4]! << 16) | words[5]!) >>> 0;
  out[at + 3] = ((words[6]! << 16) | words[7]!) >>> 0;
  return true;
}

const GROUPS = new Uint32Array(8);
const WORDS = new Uint32Array(8);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
