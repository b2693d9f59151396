/**
 * The compiled event writer writes exactly the bytes `JSON.stringify` writes, or gives the event
 * back to it: on the SDK's own events (generated inputs, every scenario's verdict, masked several
 * ways) and on events that do not suit the compiled code (keys out of order or unknown, values
 * of another type, `toJSON`, text to escape, numbers of every kind, events larger than its
 * buffer). The logger hands sinks that take bytes the same line as those that take text.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it, inject } from "vitest";
import { toLogEvent } from "../../src/audit/event.js";
import { EventWriter, FALLBACK } from "../../src/audit/event-writer.js";
import { DecisionLogger } from "../../src/audit/logger.js";
import { compileMask, maskRules } from "../../src/audit/mask.js";
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
};

const labels = Object.freeze({ team: "idp", id: "logger-1", version: "0.0.0" });
const context = { labels, bundleName: "stepup", nextRequestId: () => 42 };

/** The writer's line for an event, or undefined when it gave the event back. */
function written(writer: EventWriter, event: unknown): string | undefined {
  const n = writer.write(event as object);
  return n === FALLBACK ? undefined : writer.bytes.toString("utf8", 0, n);
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
      const writer = new EventWriter(labels, "stepup", maskRules(mask));
      let compiled = 0;
      for (const event of events) {
        const logEvent = toLogEvent(event, context);
        mask(logEvent);
        const line = written(writer, logEvent);
        if (line === undefined) continue;
        compiled++;
        expect(line).toBe(JSON.stringify(logEvent));
      }
      // The point of it: the SDK's events take the compiled path (an upsert that adds a key to an
      // object may send its events back; these rules add one to network, which every event has).
      if (name !== "rewriting") expect(compiled).toBe(events.length);
    });
  }

  it("writes any JSON value in place of the input and the result as JSON.stringify does, or gives it back", () => {
    const writer = new EventWriter(labels, "stepup", []);
    const base = toLogEvent(events[0]!, context);
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (input, result) => {
        const event = { ...base, input, result } as DecisionLogEvent;
        const line = written(writer, event);
        if (line !== undefined) expect(line).toBe(JSON.stringify(event));
      }),
      { numRuns: 300 },
    );
  });

  it("gives back, or writes exactly, what does not suit the contract", () => {
    const writer = new EventWriter(labels, "stepup", []);
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
    expect(written(new EventWriter(many, "stepup", []), event)).toBe(JSON.stringify(event));
  });

  it("grows its buffer for a large event, and gives back one past its limit", () => {
    const event = toLogEvent(events[0]!, context);
    const input = event.input as Record<string, unknown>;
    const large = { ...event, input: { ...input, note: "x".repeat(300_000) } };
    expect(written(new EventWriter(labels, "stepup", []), large)).toBe(JSON.stringify(large));
    expect(new EventWriter(labels, "stepup", [], 64 * 1024).write(large)).toBe(FALLBACK);
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
