/**
 * The compiled event writer writes exactly the bytes `JSON.stringify` writes for the event as the
 * mask leaves it, or gives the event back to it masked: on the SDK's own events (generated inputs,
 * every scenario's verdict, masked several ways, the mask applied as it writes or to a copy
 * first), on those events altered where the masks apply (keys missing, out of order, not
 * enumerable, of other values), and on events that do not suit the compiled code (keys out of
 * order or unknown, values of another type, `toJSON`, text to escape, numbers of every kind,
 * events larger than its buffer). The logger hands sinks that take bytes the same line as those
 * that take text.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it, inject } from "vitest";
import { toLogEvent } from "../../src/audit/event.js";
import { EventWriter, FALLBACK } from "../../src/audit/event-writer.js";
import { DecisionLogger } from "../../src/audit/logger.js";
import { compileMask, type Masker } from "../../src/audit/mask.js";
import type { ReviewRecord } from "../../src/audit/review.js";
import type { Sink } from "../../src/audit/sink.js";
import type { DecisionLogEvent, MaskRule } from "../../src/contracts/decision-log.js";
import type { DecisionEvent } from "../../src/decision/conclude.js";
import { loadScenarios } from "../../src/scenarios/catalog.js";
import { Stepup } from "../../src/stepup.js";
import { sampleInputs } from "../support/arbitraries.js";

const MASKS: Record<string, MaskRule[]> = {
  none: [],
  documented: [{ op: "truncate_ip", path: "/input/network/ip" }, "/input/target/resource", "/input/device/id"],
  rewriting: [
    { op: "hash", path: "/input/subject/id" },
    { op: "upsert", path: "/input/device/id", value: "redacted" },
    { op: "upsert", path: "/input/network/extra", value: { nested: [1, "two", null] } },
    "/input/subject/roles/0",
    "/result/risk/groups",
  ],
  "whole input": ["/input"],
  // Applied as the event is written: removals and rewrites at keys of the input and the result,
  // rules on keys the contract does not have, an address cut to a /16.
  inline: [
    { op: "hash", path: "/input/subject/id" },
    "/input/geo/previous",
    { op: "truncate_ip", path: "/input/network/ip", ipv4_prefix: 16, ipv6_prefix: 32 },
    { op: "hash", path: "/input/session/amr" },
    "/input/nope/deeper",
    "/result/risk/contributions",
    { op: "hash", path: "/result/policy_version" },
    "/result/unknown",
    { op: "truncate_ip", path: "/input/device/id" },
  ],
};
/** The masks the writer applies as it writes; the others mask a copy first (an upsert, a whole root). */
const INLINE = new Set(["none", "documented", "inline"]);

const labels = Object.freeze({ team: "idp", id: "logger-1", version: "0.0.0" });
const NONE = compileMask([]);
const context = { labels, bundleName: "stepup", nextRequestId: () => 42 };

/** The writer's line for an event, or undefined when it gave the event back. */
function written(writer: EventWriter, event: unknown): string | undefined {
  const n = writer.write(event as object);
  return n === FALLBACK ? undefined : writer.bytes.toString("utf8", 0, n);
}

/**
 * What the logger writes for an event: JSON.stringify of the event the masker returns. The masker
 * copies what it changes below the event; the event itself is masked in place, so the copy here
 * keeps its properties as they are (a key that is not enumerable stays so).
 */
function expected(mask: Masker, event: object): string | undefined {
  const descriptors = Object.getOwnPropertyDescriptors(event);
  // The masker adds to lists an event has already: its own copies of them.
  for (const list of ["erased", "masked"]) {
    const held = descriptors[list];
    if (held && "value" in held && Array.isArray(held.value)) held.value = [...(held.value as unknown[])];
  }
  const copy = Object.create(Object.getPrototypeOf(event), descriptors) as object;
  try {
    mask(copy);
    return JSON.stringify(copy);
  } catch {
    return undefined;
  }
}

/** The writer's line for an event, checked against the masked event's JSON whichever way it went. */
function check(writer: EventWriter, mask: Masker, event: object): boolean {
  const want = expected(mask, event);
  let line: string | undefined;
  try {
    line = written(writer, event);
  } catch (err) {
    // The masker throws on the same events (a hash of a value JSON has no text for).
    expect(want, String(err)).toBeUndefined();
    return false;
  }
  // Given back, the event is masked in place for JSON.stringify.
  expect(line ?? JSON.stringify(event)).toBe(want);
  return line !== undefined;
}

describe("the compiled event writer", () => {
  const events: DecisionEvent[] = [];

  beforeAll(async () => {
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: (e) => events.push(e), onError: () => {} });
    for (const scenario of await loadScenarios("scenarios")) stepup.decideInput(scenario.input);
    for (const input of sampleInputs(31, 150)) stepup.decide(input);
  });

  for (const [name, rules] of Object.entries(MASKS)) {
    it(`writes the SDK's events byte for byte as JSON.stringify does (mask: ${name})`, () => {
      const mask = compileMask(rules, "key");
      const writer = new EventWriter(labels, "stepup", mask);
      expect(writer.masksInline).toBe(INLINE.has(name));
      let compiled = 0;
      for (const event of events) if (check(writer, mask, toLogEvent(event, context))) compiled++;
      // The point of it: the SDK's events take the compiled path (an upsert that adds a key to an
      // object may send its events back; these rules add one to network, which every event has).
      if (name !== "rewriting") expect(compiled).toBe(events.length);
    });

    it(`writes the SDK's events altered where masks apply as the masker and JSON.stringify do (mask: ${name})`, () => {
      const mask = compileMask(rules, "key");
      const writer = new EventWriter(labels, "stepup", mask);
      const odd = fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.constantFrom("203.0.113.9", "2001:db8:1:2::7", "not an address", "é 😀"),
        fc.integer(),
        fc.jsonValue(),
      );
      const alteration = fc.record({
        at: fc.constantFrom("subject", "network", "device", "target", "geo", "session", "result", "risk", "event"),
        key: fc.constantFrom("id", "ip", "resource", "previous", "amr", "contributions", "policy_version", "unknown", "nope", "erased", "masked"),
        how: fc.constantFrom("value", "delete", "hidden", "last"),
        value: odd,
      });
      fc.assert(
        fc.property(fc.nat(events.length - 1), fc.array(alteration, { maxLength: 3 }), (index, alterations) => {
          const event = toLogEvent(events[index]!, context) as unknown as Record<string, unknown>;
          for (const { at, key, how, value } of alterations) alter(event, at, key, how, value);
          check(writer, mask, event);
        }),
        { numRuns: 400 },
      );
    });
  }

  it("writes any JSON value in place of the input and the result as JSON.stringify does, or gives it back", () => {
    for (const rules of Object.values(MASKS)) {
      const mask = compileMask(rules, "key");
      const writer = new EventWriter(labels, "stepup", mask);
      const base = toLogEvent(events[0]!, context);
      fc.assert(
        fc.property(fc.jsonValue(), fc.jsonValue(), (input, result) => {
          check(writer, mask, { ...base, input, result } as DecisionLogEvent);
        }),
        { numRuns: 150 },
      );
    }
  });

  it("gives back, or writes exactly, what does not suit the contract", () => {
    const writer = new EventWriter(labels, "stepup", NONE);
    const event = toLogEvent(events[0]!, context);
    const input = event.input as Record<string, unknown>;
    const subject = input.subject as Record<string, unknown>;
    const { now, ...rest } = input;
    const cases: unknown[] = [
      { ...event, input: { ...rest, now } }, // keys out of order
      { ...event, input: { ...input, unknown: 1 } },
      { ...event, input: { ...input, now: "soon" } },
      { ...event, input: { ...input, now: 1.5e300 } },
      { ...event, input: { ...input, now: -0 } },
      { ...event, input: { ...input, now: Number.NaN } },
      { ...event, input: { ...input, now: 2 ** 40 + 0.25 } },
      { ...event, input: { ...input, subject: { ...subject, id: 'quote " backslash \\ newline \n é 😀 \ud800' } } },
      { ...event, input: { ...input, subject: { ...subject, roles: [undefined, () => 1] } } },
      { ...event, input: { ...input, subject: { ...subject, toJSON: () => "replaced" } } },
      { ...event, input: { ...input, subject: Object.assign(Object.create({ inherited: 1 }), subject) } },
      { ...event, input: { ...input, geo: new Date(0) } },
      { ...event, labels: { ...labels } },
      { ...event, result: { ...(event.result as object), extra: { deep: [1, { x: null }] } } },
      { ...event, custom: { shadow: { revision: "r2", outcome: "deny" } } },
      { ...event, input: { ...input, big: 10n } },
      { ...event, input: { ...input, subject: { ...subject, roles: Object.assign(["a"], { toJSON: () => "list" }) } } },
      { ...event, labels: { many: "l".repeat(20_000) } },
    ];
    for (const value of cases) {
      let expected: string | undefined;
      try {
        expected = JSON.stringify(value);
      } catch {
        expected = undefined;
      }
      const line = written(writer, value);
      if (line !== undefined) expect(line).toBe(expected);
    }
    // These must go the compiled way and still match.
    for (const value of cases.slice(3, 8)) expect(written(writer, value)).toBe(JSON.stringify(value));
  });

  it("grows its buffer for large labels", () => {
    const many = Object.freeze({ team: "t".repeat(40_000), id: "x", version: "0" });
    const event = { ...toLogEvent(events[0]!, context), labels: many };
    expect(written(new EventWriter(many, "stepup", NONE), event)).toBe(JSON.stringify(event));
  });

  it("grows its buffer for a large event, and gives back one past its limit", () => {
    const event = toLogEvent(events[0]!, context);
    const input = event.input as Record<string, unknown>;
    const large = { ...event, input: { ...input, note: "x".repeat(300_000) } };
    expect(written(new EventWriter(labels, "stepup", NONE), large)).toBe(JSON.stringify(large));
    expect(new EventWriter(labels, "stepup", NONE, 64 * 1024).write(large)).toBe(FALLBACK);
  });

  it("reviews exception uses with the subject as logged, when the mask is applied as the event is written", () => {
    const lines: string[] = [];
    const records: ReviewRecord[] = [];
    const sink: Sink = {
      name: "bytes",
      write: () => {
        throw new Error("a sink that takes bytes gets bytes");
      },
      writeBytes: (b, n) => lines.push(Buffer.from(b.subarray(0, n)).toString("utf8")),
      flush: async () => {},
      close: async () => {},
      onDrop: () => {},
    };
    const logger = new DecisionLogger({ sinks: [sink], mask: [{ op: "hash", path: "/input/subject/id" }], hashKey: "key", onReview: (r) => records.push(r) });
    const used = events.filter((e) => (e.verdict?.exceptions.length ?? 0) > 0);
    expect(used.length).toBeGreaterThan(0);
    for (const event of used) logger.log(event);
    expect(lines).toHaveLength(used.length);
    const logged = lines.map((line) => JSON.parse(line) as { decision_id: string; input: { subject: { id: string } } });
    expect(records.length).toBeGreaterThanOrEqual(used.length);
    for (const record of records) {
      const line = logged.find((l) => l.decision_id === record.decision_id)!;
      expect(record.subject).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      expect(record.subject).toBe(line.input.subject.id);
    }
    // The caller's input is left as it was.
    for (const event of used) expect(event.input.subject.id).not.toMatch(/^hmac-sha256:/);
  });

  it("gives sinks that take bytes the lines JSON.stringify gives sinks that take text", () => {
    const text: string[] = [];
    const bytes: string[] = [];
    const textSink: Sink = { name: "text", write: (line) => text.push(line), flush: async () => {}, close: async () => {}, onDrop: () => {} };
    const bytesSink: Sink = {
      ...textSink,
      name: "bytes",
      write: () => {
        throw new Error("a sink that takes bytes gets bytes");
      },
      writeBytes: (b, n) => bytes.push(Buffer.from(b.subarray(0, n)).toString("utf8")),
    };
    // Two loggers: the first has no sink that takes bytes, so it stringifies.
    const options = { mask: MASKS.documented!, labels: { team: "idp" }, onReview: () => {} };
    const stringifying = new DecisionLogger({ ...options, sinks: [textSink] });
    const writing = new DecisionLogger({ ...options, sinks: [bytesSink] });
    for (const event of events) {
      stringifying.log(event);
      writing.log(event);
    }
    expect(bytes).toHaveLength(events.length);
    // Each logger has its own id, and the two may log an event a millisecond apart.
    const same = (line: string) => line.replace(/"id":"[^"]+"/, '"id":"…"').replace(/"timestamp":"[^"]+"/, '"timestamp":"…"');
    expect(bytes.map(same)).toEqual(text.map(same));
    expect(bytes.some((line) => line.includes('"erased":["/input/target/resource","/input/device/id"]'))).toBe(true);
  });
});

/**
 * Alters an event where masks apply: a value replaced, a key deleted, made not enumerable, or moved
 * to the end of its object.
 */
function alter(event: Record<string, unknown>, at: string, key: string, how: string, generated: unknown): void {
  // A value of the event's own: fast-check hands the same one to runs it repeats.
  const value = structuredClone(generated);
  const input = (event.input = { ...(event.input as object) }) as Record<string, unknown>;
  const result = (event.result = { ...(event.result as object) }) as Record<string, unknown>;
  let holder: Record<string, unknown>;
  if (at === "event") holder = event;
  else if (at === "result") holder = result;
  else if (at === "risk") holder = result.risk = { ...(result.risk as object) };
  else if (input[at] !== null && typeof input[at] === "object") holder = input[at] = { ...(input[at] as object) };
  else return;
  if (how === "delete") delete holder[key];
  else if (how === "hidden") Object.defineProperty(holder, key, { value, enumerable: false, configurable: true, writable: true });
  else if (how === "last") {
    const kept = holder[key];
    delete holder[key];
    holder[key] = value === undefined ? kept : value;
  } else holder[key] = value;
}
