/**
 * Indexed address lists for the edge (src/contracts/address-index.ts): an index holds exactly the
 * addresses of the list it was made from (checked with the SDK's address set, itself checked
 * against BlockList), the contract accepts every index made and refuses bases that are not written
 * as OPA writes them, and the policy (run by the pinned OPA on the Rego) finds in an index exactly
 * what the address set finds in the list.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeIp } from "../../src/contracts/address.js";
import { indexAddresses, indexedEntries, indexIssue } from "../../src/contracts/address-index.js";
import { opaBinary, runTool } from "../../src/bundle/opa-cli.js";
import { parseEnvoySettings } from "../../src/enforcement/envoy/settings.js";
import { AddressSet } from "../../src/signals/ip.js";
import { address, entry } from "../support/addresses.js";

function setOf(entries: readonly string[]): AddressSet {
  const set = new AddressSet();
  for (const e of entries) set.add(e);
  return set.prepare();
}

const validEntries = fc.array(entry, { maxLength: 40 }).map((entries) => entries.filter((e) => setOf([e]).size === 1));

describe("address index", () => {
  it("holds exactly the addresses of its list, and passes the contract", () => {
    fc.assert(
      fc.property(validEntries, fc.array(address, { minLength: 1, maxLength: 30 }), (entries, probes) => {
        const index = indexAddresses(entries);
        expect(indexIssue(index)).toBeNull();
        const original = setOf(entries);
        const indexed = setOf(indexedEntries(index));
        for (const probe of [...probes, ...entries.map((e) => e.split("/")[0]!)]) {
          const ip = normalizeIp(probe);
          if (ip) expect(indexed.has(ip), `${ip} in ${JSON.stringify(entries)}`).toBe(original.has(ip));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("refuses bases that are not the network's as OPA writes them, naming them", () => {
    for (const [index, path] of [
      [{ ipv4: { "24": { "198.51.100.7": true } } }, "ipv4.24.198.51.100.7"],
      [{ ipv6: { "48": { "2001:DB8::": true } } }, "ipv6.48.2001:DB8::"],
      [{ ipv6: { "128": { "2001:db8:0:0:0:0:0:1": true } } }, "ipv6.128.2001:db8:0:0:0:0:0:1"],
      [{ ipv6: { "128": { "::ffff:1.2.3.4": true } } }, "ipv6.128.::ffff:1.2.3.4"],
      [{ ipv4: { "33": { "0.0.0.0": true } } }, "ipv4.33"],
      [{ ipv4: { "024": { "0.0.0.0": true } } }, "ipv4.024"],
    ] as const) {
      expect(() => parseEnvoySettings({ network: { lists: [{ cidrs: index, reputation: "malicious" }] } }), path).toThrow(
        expect.objectContaining({ issues: [expect.objectContaining({ path: `stepup_envoy.network.lists[0].cidrs.${path}` })] }),
      );
    }
    expect(() => parseEnvoySettings({ network: { known: ["192.0.2.0/24", "nope"] } })).toThrow(
      expect.objectContaining({ issues: [{ path: "stepup_envoy.network.known[1]", message: "not an IP address or CIDR" }] }),
    );
  });

  it("gives the policy the same answers as the address set gives the SDK", async () => {
    const cases = fc.sample(fc.tuple(validEntries, fc.array(address, { minLength: 1, maxLength: 12 })), { numRuns: 120, seed: 20_261_207 });
    const checks: { settings: unknown; request: unknown; expected: string }[] = [];
    for (const [entries, probes] of cases) {
      const set = setOf(entries);
      const settings = { network: { lists: [{ cidrs: indexAddresses(entries), reputation: "malicious" }] } };
      for (const probe of [...probes, ...entries.map((e) => e.split("/")[0]!)]) {
        const ip = normalizeIp(probe);
        if (!ip) continue;
        // Envoy reports the peer's address in canonical form.
        const request = { attributes: { source: { address: { socketAddress: { address: ip } } } } };
        checks.push({ settings, request, expected: set.has(ip) ? "malicious" : "neutral" });
      }
    }
    const out = await runTool(
      opaBinary(),
      [
        "eval", "--format", "json", "--data", "rego", "--ignore", "*_test.rego", "--stdin-input",
        "{i: r | some i, c in input; request := c.request; settings := c.settings; r := data.stepup.envoy.network.reputation with input as request with data.stepup_envoy as settings}",
      ],
      { stdin: JSON.stringify(checks) },
    );
    const answers = JSON.parse(out).result[0].expressions[0].value as Record<string, string>;
    const wrong = checks.flatMap((c, i) => (answers[String(i)] === c.expected ? [] : [{ ...c, got: answers[String(i)] }]));
    expect(checks.length).toBeGreaterThan(500);
    expect(wrong.slice(0, 3).map((w) => JSON.stringify(w))).toEqual([]);
  });
});
