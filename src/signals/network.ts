/**
 * The network signals: the client address (X-Forwarded-For across trusted proxies only), its zone
 * from configured CIDRs (corporate, known, otherwise external), and its reputation and anonymizer
 * from list files, which can be reloaded while the service runs. An address in no list is
 * `neutral` / `none` only when every list could be checked; otherwise the signal stays unknown.
 */
import { watch, type FSWatcher } from "node:fs";
import type { Input } from "../contracts/input.js";
import type { Issue } from "../errors.js";
import { SignalConfigInvalidError } from "../errors.js";
import { clientAddress, type ClientAddress } from "./client-address.js";
import { AddressSet } from "./ip.js";
import { loadList, type AnonymizerValue, type ListSource, type LoadedList, type ReputationValue } from "./ip-lists.js";

export interface NetworkOptions {
  /** Addresses or CIDRs of the reverse proxies and load balancers in front of the service. */
  readonly trustedProxies?: readonly string[];
  /** CIDRs of the corporate network and of other known networks (partners, home offices). */
  readonly zones?: { readonly corporate?: readonly string[]; readonly known?: readonly string[] };
  /** Reputation and anonymizer lists, read from files. */
  readonly lists?: readonly ListSource[];
}

const REPUTATION_RANK: Record<ReputationValue, number> = { good: 0, neutral: 1, suspicious: 2, malicious: 3 };
const ANONYMIZER_RANK: Record<AnonymizerValue, number> = { none: 0, hosting: 1, vpn: 2, proxy: 3, tor: 4 };

export class NetworkSignals {
  private constructor(
    private readonly proxies: AddressSet,
    private readonly corporate: AddressSet,
    private readonly known: AddressSet,
    private readonly sources: readonly ListSource[],
    private lists: readonly LoadedList[],
  ) {}

  /** Validates the configuration and reads every list file. */
  static async load(options: NetworkOptions = {}): Promise<NetworkSignals> {
    const issues: Issue[] = [];
    const proxies = addressSet(options.trustedProxies ?? [], "network.trustedProxies", issues);
    const corporate = addressSet(options.zones?.corporate ?? [], "network.zones.corporate", issues);
    const known = addressSet(options.zones?.known ?? [], "network.zones.known", issues);
    const sources = options.lists ?? [];
    sources.forEach((s, i) => {
      if (!s.reputation && !s.anonymizer) issues.push({ path: `network.lists[${i}]`, message: "names neither a reputation nor an anonymizer" });
    });
    if (issues.length > 0) throw new SignalConfigInvalidError(issues);
    return new NetworkSignals(proxies, corporate, known, sources, await Promise.all(sources.map(loadList)));
  }

  /** The client address for a request, from its socket peer and X-Forwarded-For. */
  client(peer: string | null | undefined, forwardedFor: string | readonly string[] | undefined): ClientAddress {
    return clientAddress(peer, forwardedFor, this.proxies);
  }

  /** The network part of the input for a canonical client address and its ASN. */
  classify(ip: string | null, asn: number | null): Input["network"] {
    if (ip === null) return { ip: null, zone: null, reputation: null, anonymizer: null, asn };
    const zone = this.corporate.has(ip) ? "corporate" : this.known.has(ip) ? "known" : "external";
    return {
      ip,
      zone,
      reputation: this.worst(ip, asn, "reputation", REPUTATION_RANK, "neutral"),
      anonymizer: this.worst(ip, asn, "anonymizer", ANONYMIZER_RANK, "none"),
      asn,
    };
  }

  /** Entries per list file, for health checks. */
  get listSizes(): Record<string, number> {
    return Object.fromEntries(this.lists.map((l) => [l.source.file, l.entries]));
  }

  /**
   * Reads every list file again and swaps them in at once. If any file fails, the lists in use
   * stay as they were and the error (`IpListInvalidError`) is thrown.
   */
  async reload(): Promise<void> {
    this.lists = await Promise.all(this.sources.map(loadList));
  }

  /**
   * Reloads when a list file changes (debounced). Errors go to `onError` and keep the old lists.
   * Returns a function that stops watching.
   */
  watch(onError: (err: unknown) => void, debounceMs = 200): () => void {
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload().catch(onError), debounceMs);
    };
    const watchers: FSWatcher[] = this.sources.filter((s) => !s.entries).map((s) => watch(s.file, { persistent: false }, schedule));
    return () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    };
  }

  private worst<K extends "reputation" | "anonymizer", V extends string>(
    ip: string,
    asn: number | null,
    key: K,
    rank: Record<V, number>,
    clean: V,
  ): V | null {
    let found: V | null = null;
    let relevant = false;
    let complete = true;
    for (const list of this.lists) {
      const value = list.source[key] as V | undefined;
      if (!value) continue;
      relevant = true;
      let hit = false;
      if (list.ips) hit = list.ips.has(ip);
      else if (asn === null) complete = false;
      else hit = list.asns?.has(asn) ?? false;
      if (hit && (found === null || rank[value] > rank[found])) found = value;
    }
    if (found !== null) return found;
    return relevant && complete ? clean : null;
  }
}

function addressSet(entries: readonly string[], path: string, issues: Issue[]): AddressSet {
  const set = new AddressSet();
  entries.forEach((entry, i) => {
    if (typeof entry !== "string" || !set.add(entry)) issues.push({ path: `${path}[${i}]`, message: "not an IP address or CIDR" });
  });
  return set.prepare();
}
