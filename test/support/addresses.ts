/**
 * Generated address lists and addresses for the address-set and address-index tests: small spaces,
 * so that entries overlap, nest and touch and lookups land near their edges, and IPv6 written in
 * every form people write it.
 */
import fc from "fast-check";

export const v4 = fc.tuple(fc.constantFrom(0, 10, 127, 198, 203, 255), fc.constantFrom(0, 51, 255), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }));
const hextet = fc.oneof(fc.constantFrom(0, 1, 0xdb8, 0xffff, 0x2001), fc.integer({ min: 0, max: 0xffff }));
const v6Words = fc.oneof(
  fc.tuple(fc.constant(0x2001), fc.constant(0xdb8), hextet, hextet, fc.constant(0), fc.constant(0), hextet, hextet),
  fc.tuple(fc.constant(0), fc.constant(0), fc.constant(0), fc.constant(0), fc.constant(0), fc.constantFrom(0, 0xffff), hextet, hextet),
  fc.tuple(hextet, hextet, hextet, hextet, hextet, hextet, hextet, hextet),
);

export const dotted = ([a, b, c, d]: readonly number[]) => `${a}.${b}.${c}.${d}`;

/** IPv6 text in one of the forms people write: full, compressed, upper case, leading zeros, dotted tail. */
export function v6Text(words: readonly number[], style: number): string {
  const hex = words.map((w) => w.toString(16));
  switch (style % 5) {
    case 0:
      return hex.join(":");
    case 1:
      return hex.map((h) => h.padStart(4, "0")).join(":").toUpperCase();
    case 2: {
      // The first run of zeros compressed, whatever its length.
      const at = words.indexOf(0);
      if (at < 0) return hex.join(":");
      let end = at;
      while (end < 8 && words[end] === 0) end++;
      return `${hex.slice(0, at).join(":")}::${hex.slice(end).join(":")}`;
    }
    case 3:
      return `${hex.slice(0, 6).join(":")}:${dotted([words[6]! >> 8, words[6]! & 255, words[7]! >> 8, words[7]! & 255])}`;
    default:
      return new URL(`http://[${hex.join(":")}]/`).hostname.slice(1, -1);
  }
}

export const address = fc.oneof(
  v4.map(dotted),
  fc.tuple(v6Words, fc.nat()).map(([w, s]) => v6Text(w, s)),
);
export const entry = fc.oneof(
  { weight: 3, arbitrary: address },
  { weight: 2, arbitrary: fc.tuple(v4.map(dotted), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`) },
  { weight: 2, arbitrary: fc.tuple(v6Words, fc.nat(), fc.integer({ min: 0, max: 128 })).map(([w, s, p]) => `${v6Text(w, s)}/${p}`) },
  { weight: 1, arbitrary: fc.constantFrom("::/0", "::/64", "::/80", "::/96", "0.0.0.0/0", " 198.51.100.7 ", "[2001:db8::1]", "198.51.100.7:443", "::ffff:198.51.100.0/24", "::ffff:c633:6407") },
);

