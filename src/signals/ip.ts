/**
 * A set of addresses and networks, IPv4 and IPv6: exact addresses in a hash set (lists of exit
 * nodes run to thousands, and a lookup stays constant), networks in Node's BlockList.
 */
import { BlockList } from "node:net";
import { familyOf, normalizeIp, parseCidr } from "../contracts/address.js";

export class AddressSet {
  private readonly exact = new Set<string>();
  private readonly subnets = new BlockList();
  private subnetCount = 0;

  get size(): number {
    return this.exact.size + this.subnetCount;
  }

  /** Adds an address or a CIDR; returns false (adding nothing) when the text is neither. */
  add(entry: string): boolean {
    if (!entry.includes("/")) {
      const ip = normalizeIp(entry);
      if (!ip) return false;
      this.exact.add(ip);
      return true;
    }
    const cidr = parseCidr(entry);
    if (!cidr) return false;
    this.subnets.addSubnet(cidr.base, cidr.prefix, cidr.family);
    this.subnetCount++;
    return true;
  }

  /** Whether a canonical address (from `normalizeIp`) is in the set. */
  has(ip: string): boolean {
    if (this.exact.has(ip)) return true;
    return this.subnetCount > 0 && this.subnets.check(ip, familyOf(ip));
  }
}
