/**
 * The SDK and the published JSON Schema accept the same addresses. IPv4-mapped IPv6
 * (`::ffff:198.51.100.7`) once passed the SDK and failed schemas/input.schema.json, so a document
 * the SDK decided on was invalid to anyone validating with the schema. Both now take their
 * pattern from one source; here each answer is checked against the other and against Node's own
 * parser, on generated addresses and on strings made of address characters.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { describe, expect, it } from "vitest";
import { normalizeIp } from "../../src/contracts/address.js";
import { IP_PATTERN, isIpText } from "../../src/contracts/ip-text.js";
import { parseInput } from "../../src/input/validate.js";
import { testStepup } from "../helpers.js";
import { opaEvalDecisions } from "../support/opa-eval.js";

const published = JSON.parse(readFileSync("schemas/input.schema.json", "utf8")) as { properties: { network: { properties: { ip: object } } } };
const schemaAccepts = new Ajv2020({ strict: false }).compile(published.properties.network.properties.ip);

const doc = (ip: string) => ({ now: 1_795_852_800, subject: { id: "a@example.com", kind: "human" }, network: { ip }, target: { app: "wiki", action: "read" } });

function sdkAccepts(ip: string): boolean {
  try {
    parseInput(doc(ip));
    return true;
  } catch {
    return false;
  }
}

const MAPPED = ["::ffff:198.51.100.7", "::FFFF:198.51.100.7", "0:0:0:0:0:ffff:198.51.100.7", "::ffff:c633:6407", "64:ff9b::198.51.100.7", "::198.51.100.7", "1:2:3:4:5:6:1.2.3.4"];
const NOT_ADDRESSES = ["::ffff:300.1.1.1", "::ffff:01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:6::1.2.3.4", "::1.2.3.4:5", "1::2::3", "01.2.3.4", "fe80::1%eth0", "[::1]", "1.2.3.4:80", " 1.2.3.4", ""];

const chars = fc.constantFrom(..."0123456789abcdefABCDEF:.".split(""));
const text = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.string({ unit: chars, minLength: 2, maxLength: 45 }),
  fc.tuple(fc.ipV6(), fc.ipV4()).map(([v6, v4]) => `${v6.replace(/:[^:]*$/, "")}:${v4}`),
);

describe("addresses in the input contract", () => {
  it("accepts IPv4-mapped and other embedded-IPv4 IPv6 forms in the SDK and in the published schema alike", async () => {
    const stepup = await testStepup();
    for (const ip of MAPPED) {
      expect(sdkAccepts(ip), ip).toBe(true);
      expect(schemaAccepts(ip), ip).toBe(true);
      expect(stepup.decide(doc(ip) as unknown).error, ip).toBeUndefined();
    }
    expect(normalizeIp("::ffff:198.51.100.7")).toBe("198.51.100.7");
  });

  it("refuses what is not an address in both", () => {
    for (const ip of NOT_ADDRESSES) {
      expect(sdkAccepts(ip), ip).toBe(false);
      expect(schemaAccepts(ip), ip).toBe(false);
    }
  });

  it("gives the SDK's answer, the schema's and Node's parser's alike on generated text", () => {
    fc.assert(
      fc.property(text, (ip) => {
        const node = isIP(ip) !== 0;
        expect(schemaAccepts(ip), ip).toBe(node);
        expect(sdkAccepts(ip), ip).toBe(node);
      }),
      { numRuns: 20_000 },
    );
  });

  // The SDK's compiled check takes addresses with isIpText, not the pattern (V8 compiles it on
  // first use, in milliseconds): the two agree on addresses, near misses and characters that
  // differ from digits and letters by one bit.
  it("takes the same texts with isIpText as with the pattern", () => {
    const pattern = new RegExp(IP_PATTERN);
    const odd = fc.constantFrom("\n", " ", "%eth0", ":", "::", ".", "0", "\u0661", "g", "G", "\u0010", "\u0019", "\u0041", "/", "@", "`", "");
    const texts = fc.oneof(text, fc.tuple(text, odd, text).map((parts) => parts.join("")), fc.tuple(odd, text).map((parts) => parts.join("")));
    fc.assert(
      fc.property(texts, (ip) => {
        expect(isIpText(ip), ip).toBe(pattern.test(ip));
      }),
      { numRuns: 50_000 },
    );
    for (const ip of [...MAPPED, ...NOT_ADDRESSES, "::", "::1", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "\u0010.1.1.1"]) expect(isIpText(ip), ip).toBe(pattern.test(ip));
  });

  // The contract's Rego checks addresses without the pattern (OPA's wasm would compile it on
  // every evaluation), so it is held to the pattern here, in Go's OPA and in the wasm alike.
  it("gives the SDK's answer in the policy's own check, on opa eval and on the wasm", async () => {
    const stepup = await testStepup();
    const wasm = await loadPolicy(stepup.bundle.wasm);
    wasm.setData(stepup.bundle.data);
    const nearMisses = fc.tuple(text, fc.constantFrom("\n", " ", "%eth0", ":", "::", ".", "0", "\u0661", "g", "")).map(([t, s]) => t + s);
    const texts = [...new Set([...MAPPED, ...NOT_ADDRESSES, ...fc.sample(fc.oneof(text, nearMisses), { seed: 24, numRuns: 4_000 })])];
    const docs = texts.map(doc);
    const refused = (verdict: unknown) => ((verdict as { invalid_fields?: string[] }).invalid_fields ?? []).includes("network.ip");
    const byOpa = await opaEvalDecisions(docs);
    const differing = texts.filter((ip, i) => {
      const sdk = sdkAccepts(ip);
      const inWasm = (wasm.evaluate(docs[i], "stepup/decision") as [{ result: unknown }])[0].result;
      return refused(byOpa[i]) === sdk || refused(inWasm) === sdk;
    });
    expect(differing).toEqual([]);
    expect(texts.filter(sdkAccepts).length).toBeGreaterThan(1_000);
  });
});
