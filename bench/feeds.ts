/**
 * Address and ASN feeds of any size, as the lists users load are written (one entry a line), made
 * from a seed so that every run measures the same lists: half exact IPv4 addresses, a fifth IPv4
 * networks (/16–/24), a fifth IPv6 networks (/32–/64) and a tenth exact IPv6 addresses, in the
 * public ranges hosting and VPN feeds cover.
 */

/** A generator of numbers in [0, 1) from a seed (a linear congruential generator; enough for test data). */
export function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
}

/** `n` entries of a mixed address feed, one a line. */
export function addressFeed(n: number, seed = 1): string {
  const rnd = seeded(seed);
  const octet = () => Math.floor(rnd() * 256);
  const hextet = () => Math.floor(rnd() * 65_536).toString(16);
  const lines = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const first = 1 + Math.floor(rnd() * 222);
    if (r < 0.5) lines[i] = `${first}.${octet()}.${octet()}.${octet()}`;
    else if (r < 0.7) lines[i] = `${first}.${octet()}.${octet()}.0/${16 + Math.floor(rnd() * 9)}`;
    else if (r < 0.9) lines[i] = `2a0${Math.floor(rnd() * 10)}:${hextet()}:${hextet()}::/${32 + Math.floor(rnd() * 33)}`;
    else lines[i] = `2a0${Math.floor(rnd() * 10)}:${hextet()}:${hextet()}:${hextet()}::${hextet()}`;
  }
  return `${lines.join("\n")}\n`;
}

/** `n` ASNs, one a line (`AS…`), in the 32-bit range. */
export function asnFeed(n: number, seed = 1): string {
  const rnd = seeded(seed);
  const lines = new Array<string>(n);
  for (let i = 0; i < n; i++) lines[i] = `AS${1 + Math.floor(rnd() * 4_199_999_999)}`;
  return `${lines.join("\n")}\n`;
}

/** Addresses to look up, in the same spaces as the feeds (most miss, some hit). */
export function probeAddresses(n: number, seed = 2): string[] {
  const rnd = seeded(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const first = 1 + Math.floor(rnd() * 222);
    out.push(i % 4 === 3 ? `2a0${Math.floor(rnd() * 10)}:${Math.floor(rnd() * 65_536).toString(16)}::${i}` : `${first}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`);
  }
  return out;
}
