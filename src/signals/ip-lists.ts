/**
 * Address and ASN lists read from files: Tor exit lists, blocklists, reputation feeds (one IP or
 * CIDR a line), and ASN lists of hosting or VPN providers (`AS16509` or `16509` a line, or a range
 * `AS64512-AS65534`, kept as sorted ranges: src/signals/asn-set.ts). `#` and
 * `;` start comments, so Spamhaus-style `1.10.16.0/20 ; SBL256894` lines and `AS123 # name` read
 * as they are. A line that is none of these is an error naming the file and line, never skipped.
 */
import { readFile, stat } from "node:fs/promises";
import type * as z from "zod";
import type { Anonymizer, Reputation } from "../contracts/input.js";
import { IpListInvalidError } from "../errors.js";
import { AsnSet } from "./asn-set.js";
import { AddressSet } from "./ip.js";

export type ReputationValue = z.output<typeof Reputation>;
export type AnonymizerValue = z.output<typeof Anonymizer>;

/** A list file (or a list given inline) and what membership in it means. */
export interface ListSource {
  /** The file to read; with `entries`, only the list's name in messages. */
  readonly file: string;
  /** The list's lines given inline (from the Envoy data document, say) instead of read from `file`. */
  readonly entries?: readonly string[];
  /** `ip` (addresses and CIDRs, the default) or `asn`. */
  readonly kind?: "ip" | "asn";
  /** The reputation of every address (or ASN) in the list. */
  readonly reputation?: ReputationValue;
  /** The anonymizer every address (or ASN) in the list belongs to. */
  readonly anonymizer?: AnonymizerValue;
}

export interface LoadedList {
  readonly source: ListSource;
  readonly ips: AddressSet | null;
  readonly asns: AsnSet | null;
  readonly entries: number;
}

const MAX_FILE_BYTES = 64 * 2 ** 20;
const MAX_ASN = 4_294_967_295;
const ASN_LINE = /^(?:AS)?(\d{1,10})(?:-(?:AS)?(\d{1,10}))?$/i;

/** Reads and parses one list file. */
export async function loadList(source: ListSource): Promise<LoadedList> {
  if (source.entries) return parseList(source.entries.join("\n"), source);
  let text: string;
  try {
    const info = await stat(source.file);
    if (!info.isFile()) throw new Error("not a regular file");
    if (info.size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = await readFile(source.file, "utf8");
  } catch (err) {
    throw new IpListInvalidError(source.file, 0, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return parseList(text, source);
}

/** Parses the text of a list file; `source.file` only names it in errors. */
export function parseList(text: string, source: ListSource): LoadedList {
  const asnKind = source.kind === "asn";
  const ips = asnKind ? null : new AddressSet();
  const asns = asnKind ? new AsnSet() : null;
  let entries = 0;
  // Line by line over the text, without splitting it whole: a feed of a million lines loads
  // without a million-string array beside it.
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const token = firstToken(text.slice(start, end));
    start = end + 1;
    if (token === null) continue;
    if (asns) {
      const m = ASN_LINE.exec(token);
      const low = m?.[1] ? Number(m[1]) : NaN;
      const high = m?.[2] ? Number(m[2]) : low;
      if (!(low >= 0 && high <= MAX_ASN && low <= high)) throw new IpListInvalidError(source.file, line, m?.[2] ? "not an ASN range" : "not an ASN");
      asns.add(low, high);
    } else if (!ips?.add(token)) {
      throw new IpListInvalidError(source.file, line, "not an IP address or CIDR");
    }
    entries++;
  }
  return { source, ips: ips?.prepare() ?? null, asns: asns?.prepare() ?? null, entries };
}

const PLAIN = /[#;\s,]/;

function firstToken(line: string): string | null {
  // Most lines of a feed are the entry alone.
  if (line.length > 0 && !PLAIN.test(line)) return line;
  const cut = line.search(/[#;]/);
  const body = (cut >= 0 ? line.slice(0, cut) : line).trim();
  if (body.length === 0) return null;
  return body.split(/[\s,]+/)[0] ?? null;
}
