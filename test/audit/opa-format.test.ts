/**
 * Done when: an OPA server configured to upload decision logs to a test collector, and the SDK
 * configured likewise, produce events that the same schema accepts, field for field. OPA (the
 * pinned binary, `opa run --server`) loads the test bundle from the collector under the name
 * "stepup" and masks with a `system.log.mask` policy; the SDK logs with the equivalent rules.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import { DecisionLogEventSchema } from "../../src/contracts/decision-log.js";
import type { Verdict } from "../../src/contracts/decision.js";
import { InputSchema, type Input } from "../../src/contracts/input.js";
import { parseVerdict } from "../../src/decision/verdict.js";
import { Stepup } from "../../src/stepup.js";
import { scenarios } from "../helpers.js";
import { startCollector, type Collector, type Upload } from "../support/collector.js";
import { startOpa, type OpaServer } from "../support/opa-server.js";

const MASK_REGO = `package system.log

mask contains "/input/device/id"

mask contains {"op": "upsert", "path": "/input/network/ip", "value": "192.0.2.0"}
`;
const MASK_RULES = ["/input/device/id", { op: "upsert" as const, path: "/input/network/ip", value: "192.0.2.0" }];

const fromOpa = (u: Upload) => String(u.headers["user-agent"]).startsWith("Open-Policy-Agent");
const fromSdk = (u: Upload) => !fromOpa(u);

describe("decision logs: OPA's and the SDK's events", () => {
  let collector: Collector;
  let opa: OpaServer | undefined;
  let inputs: Input[];

  beforeAll(async () => {
    collector = await startCollector({ "/bundles/stepup.tar.gz": await readFile(inject("bundlePath")) });
    inputs = (await scenarios()).map((s) => s.input);
    opa = await startOpa(
      [
        "services:",
        "  collector:",
        `    url: ${collector.url}`,
        "bundles:",
        "  stepup:",
        "    service: collector",
        "    resource: bundles/stepup.tar.gz",
        "decision_logs:",
        "  service: collector",
        "  reporting:",
        "    min_delay_seconds: 1",
        "    max_delay_seconds: 1",
        "labels:",
        "  environment: test",
      ].join("\n"),
      { "mask.rego": MASK_REGO },
    );
    for (const input of inputs) {
      const res = await fetch(`${opa.url}/v1/data/stepup/decision`, { method: "POST", body: JSON.stringify({ input }) });
      expect(res.status).toBe(200);
    }
    const logger = new DecisionLogger({
      sinks: [new HttpSink({ url: collector.url })],
      mask: MASK_RULES,
      labels: { environment: "test" },
    });
    const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision });
    for (const input of inputs) stepup.decideInput(input);
    await logger.close();
    await collector.waitFor(inputs.length, fromOpa);
  });

  afterAll(async () => {
    await opa?.stop();
    await collector?.close();
  });

  it("are uploaded the same way: POST /logs, a gzip-compressed JSON array", () => {
    for (const filter of [fromOpa, fromSdk]) {
      const uploads = collector.uploads.filter(filter);
      expect(uploads.length).toBeGreaterThan(0);
      for (const u of uploads) {
        expect(u.path).toBe("/logs");
        expect(u.headers["content-encoding"]).toBe("gzip");
        expect(u.headers["content-type"]).toBe("application/json");
      }
    }
  });

  it("are accepted by the one event schema, field for field", () => {
    const opaEvents = collector.events(fromOpa).map((e) => DecisionLogEventSchema.parse(e));
    const sdkEvents = collector.events(fromSdk).map((e) => DecisionLogEventSchema.parse(e));
    expect(opaEvents).toHaveLength(inputs.length);
    expect(sdkEvents).toHaveLength(inputs.length);
    const key = (e: { input?: unknown }) => canonical(e.input);
    const sdkByInput = new Map(sdkEvents.map((e) => [key(e), e]));
    for (const opaEvent of opaEvents) {
      const sdkEvent = sdkByInput.get(key(opaEvent));
      expect(sdkEvent, "an SDK event with the same (masked) input").toBeDefined();
      if (!sdkEvent) continue;
      // The same fields, but requested_by: OPA's client address, which an in-process call has not.
      expect(Object.keys(sdkEvent).sort()).toEqual(Object.keys(opaEvent).filter((k) => k !== "requested_by").sort());
      expect(typeof opaEvent.requested_by).toBe("string");
      expect(Object.keys(sdkEvent.labels ?? {}).sort()).toEqual(Object.keys(opaEvent.labels ?? {}).sort());
      expect(sdkEvent.labels?.environment).toBe("test");
      expect(sdkEvent.bundles).toEqual({ stepup: { revision: "test-revision" } });
      expect(opaEvent.bundles).toEqual(sdkEvent.bundles);
      expect(sdkEvent.path).toBe(opaEvent.path);
      expect(sdkEvent.erased).toEqual(opaEvent.erased);
      expect(sdkEvent.masked).toEqual(opaEvent.masked);
      // Input and result: the same documents, valid under the input and verdict contracts.
      expect(canonical(sdkEvent.input)).toBe(canonical(opaEvent.input));
      expect(InputSchema.safeParse(sdkEvent.input).success).toBe(true);
      expect(InputSchema.safeParse(opaEvent.input).success).toBe(true);
      expect(asSets(parseVerdict(sdkEvent.result))).toEqual(asSets(parseVerdict(opaEvent.result)));
      for (const field of ["timestamp", "metrics", "req_id", "decision_id"] as const) {
        expect(typeof sdkEvent[field], field).toBe(typeof opaEvent[field]);
      }
    }
  });

  it("mask the same way: OPA's remove and upsert semantics", () => {
    // A validated input always has device.id (null when unknown) once it has a device.
    const withDeviceId = inputs.filter((i) => i.device !== null).length;
    expect(withDeviceId).toBeGreaterThan(0);
    for (const filter of [fromOpa, fromSdk]) {
      const events = collector.events(filter) as { input: Input; erased?: string[]; masked?: string[] }[];
      expect(events.filter((e) => e.erased?.includes("/input/device/id"))).toHaveLength(withDeviceId);
      for (const e of events) {
        expect(e.input.device?.id ?? undefined).toBeUndefined();
        expect(e.input.network.ip).toBe("192.0.2.0");
        expect(e.masked).toEqual(["/input/network/ip"]);
      }
    }
  });
});

/** Reasons and obligations are sets: OPA writes them sorted, the wasm in hash order. */
function asSets(verdict: Verdict): Verdict {
  return { ...verdict, reasons: [...verdict.reasons].sort(), obligations: [...verdict.obligations].sort() };
}

/** JSON with object keys sorted (OPA writes them sorted, the SDK in contract order). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
