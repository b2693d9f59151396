/**
 * Done when: masked fields never appear in any sink. Canary values sit in every field the mask
 * hides; decisions (real ones, and one that used an exception, whose review record is logged
 * too) go to the file, HTTP and console sinks at once, and no byte any sink wrote holds a canary.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { DecisionLogger } from "../../src/audit/logger.js";
import { compileMask, truncateIp, type Maskable } from "../../src/audit/mask.js";
import { StepupMetrics } from "../../src/audit/metrics.js";
import type { ReviewRecord } from "../../src/audit/review.js";
import { ConsoleSink } from "../../src/audit/sinks/console.js";
import { FileSink } from "../../src/audit/sinks/file.js";
import { HttpSink } from "../../src/audit/sinks/http.js";
import type { MaskRule } from "../../src/contracts/decision-log.js";
import { parseInput } from "../../src/input/validate.js";
import { AuditConfigInvalidError } from "../../src/errors.js";
import { Stepup } from "../../src/stepup.js";
import { startCollector, type Collector } from "../support/collector.js";
import { exceptionEvent } from "../support/events.js";
import { sampleInputs } from "../support/arbitraries.js";

const CANARY = {
  subject: "canary-subject-7Qx9@example.com",
  ip: "198.51.100.237",
  ipv6: "2001:db8:abcd:12:3456::beef",
  resource: "/reset?token=canary-token-Zr4p",
  device: "canary-device-K2w8",
};

const MASK: MaskRule[] = [
  { op: "hash", path: "/input/subject/id" },
  { op: "truncate_ip", path: "/input/network/ip" },
  "/input/target/resource",
  { op: "upsert", path: "/input/device/id", value: "redacted" },
];

describe("masking", () => {
  let dir: string;
  let collector: Collector;
  let console_: string;
  let reviews: ReviewRecord[];
  let metricsText: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepup-mask-"));
    collector = await startCollector();
    const out = new PassThrough();
    console_ = "";
    out.on("data", (d: Buffer) => (console_ += d.toString()));
    reviews = [];
    const metrics = new StepupMetrics();
    const logger = new DecisionLogger({
      sinks: [
        new FileSink({ path: join(dir, "decisions.ndjson"), maxBytes: 16 * 1024, compress: true }),
        new HttpSink({ url: collector.url }),
        new ConsoleSink({ stream: out }),
      ],
      mask: MASK,
      hashKey: "test-key",
      metrics,
      onReview: (r) => reviews.push(r),
    });
    const stepup = await Stepup.load(inject("bundlePath"), {
      onDecision: (e) => {
        metrics.observe(e);
        logger.onDecision(e);
      },
    });
    for (const [i, input] of sampleInputs(21, 60).entries()) {
      stepup.decide({
        ...input,
        subject: { ...input.subject, id: CANARY.subject },
        network: { ...input.network, ip: i % 2 ? CANARY.ip : CANARY.ipv6 },
        device: { ...(input.device ?? { attested: false }), id: CANARY.device },
        target: { ...input.target, resource: CANARY.resource },
      });
    }
    logger.log(exceptionEvent(parseInput({
      now: 1795852800,
      subject: { id: CANARY.subject, kind: "human" },
      network: { ip: CANARY.ip },
      device: { id: CANARY.device, attested: true },
      target: { app: "payroll", action: "admin", resource: CANARY.resource },
    })));
    await logger.close();
    metricsText = await metrics.text();
  });

  afterAll(async () => {
    await collector?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("keeps every canary out of every sink, the review log and the metrics", async () => {
    const files = await readdir(dir);
    expect(files.length).toBeGreaterThan(1); // rotated, and the rotated files gzipped
    const fileText = (
      await Promise.all(files.map(async (f) => {
        const bytes = await readFile(join(dir, f));
        return f.endsWith(".gz") ? gunzipSync(bytes).toString() : bytes.toString();
      }))
    ).join("\n");
    const sinks = {
      file: fileText,
      http: collector.uploads.map((u) => u.body).join("\n"),
      console: console_,
      review: JSON.stringify(reviews),
      metrics: metricsText,
    };
    for (const [sink, text] of Object.entries(sinks)) {
      if (sink !== "metrics") expect(text.split("\n").filter((l) => l.includes('"decision_id"')).length, sink).toBeGreaterThan(0);
      for (const canary of Object.values(CANARY)) expect(text.includes(canary), `${canary} in ${sink}`).toBe(false);
      // Nor the parts of the addresses that truncation drops (as address parts: "beef" alone also
      // turns up in random decision ids and hashes, which are hex).
      expect(text, sink).not.toMatch(/\.237\b|:beef\b/);
    }
  });

  it("leaves what the mask keeps: a stable keyed hash, the network part of the address", () => {
    const events = collector.uploads.flatMap((u) => u.events) as { input: { subject: { id: string }; network: { ip: string }; device: { id: string } }; masked: string[]; erased: string[] }[];
    expect(events).toHaveLength(61);
    const hashes = new Set(events.map((e) => e.input.subject.id));
    expect([...hashes]).toHaveLength(1);
    expect([...hashes][0]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(new Set(events.map((e) => e.input.network.ip))).toEqual(new Set(["198.51.100.0", "2001:db8:abcd::"]));
    expect(events.every((e) => e.input.device.id === "redacted")).toBe(true);
    expect(events.every((e) => e.erased.includes("/input/target/resource"))).toBe(true);
    expect(events[0]?.masked).toEqual(["/input/subject/id", "/input/network/ip", "/input/device/id"]);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]?.subject).toBe([...hashes][0]);
  });
});

describe("drop rules and failures in the logger", () => {
  it("refuse a drop rule that names no known outcome, naming the field", () => {
    let error: unknown;
    try {
      new DecisionLogger({ sinks: [], drop: { outcome: ["maybe" as "allow"] } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AuditConfigInvalidError);
    expect((error as AuditConfigInvalidError).issues[0]?.path).toBe("drop.outcome[0]");
  });

  it("never turn a logging failure into a failed decision: the event is lost and counted", async () => {
    const metrics = new StepupMetrics();
    const logger = new DecisionLogger({
      sinks: [],
      metrics,
      drop: () => {
        throw new Error("bug in a drop rule");
      },
    });
    const stderr = process.stderr.write;
    let logged = "";
    process.stderr.write = ((chunk: string) => ((logged += chunk), true)) as typeof process.stderr.write;
    try {
      const stepup = await Stepup.load(inject("bundlePath"), { onDecision: logger.onDecision });
      const [input] = sampleInputs(4, 1);
      const decision = stepup.decideInput(input!);
      expect(decision.error).toBeUndefined();
      stepup.decideInput(input!);
    } finally {
      process.stderr.write = stderr;
    }
    expect(logged.trim().split("\n")).toHaveLength(1); // reported once, not per event
    expect(await metrics.text()).toMatch(/stepup_decision_log_dropped_total\{sink="all",reason="write_failed"\} 2/);
  });
});

describe("mask rules", () => {
  const event = (): Maskable => ({
    input: { a: { b: "x", list: [1, 2, 3] }, ip: "10.1.2.3" },
    result: { outcome: "allow", exceptions: [], obligations: [] },
  });

  it("skip paths that are not there, as OPA does, without listing them", () => {
    const e = event();
    compileMask(["/input/nope/deeper", { op: "hash", path: "/input/missing" }])(e);
    expect(e).toEqual(event());
  });

  it("remove array items by index and upsert through missing objects", () => {
    const e = event();
    compileMask(["/input/a/list/1", { op: "upsert", path: "/input/new/deep", value: 7 }])(e);
    expect(e.input).toEqual({ a: { b: "x", list: [1, 3] }, ip: "10.1.2.3", new: { deep: 7 } });
    expect(e.erased).toEqual(["/input/a/list/1"]);
    expect(e.masked).toEqual(["/input/new/deep"]);
  });

  it("remove object keys at any depth, keeping the rest in order, for the rules after them too", () => {
    const e = event();
    const original = e.input;
    const rules: MaskRule[] = ["/input/a/b", { op: "hash", path: "/input/a/b" }, "/input/ip", { op: "upsert", path: "/input/a/c", value: 1 }, "/input/a/list/0"];
    compileMask(rules)(e);
    expect(JSON.stringify(e.input)).toBe(JSON.stringify({ a: { list: [2, 3], c: 1 } }));
    expect(e.erased).toEqual(["/input/a/b", "/input/ip", "/input/a/list/0"]);
    expect(e.masked).toEqual(["/input/a/c"]);
    expect(original).toEqual(event().input);
    const odd: Maskable = { input: JSON.parse('{"x":1,"__proto__":{"y":2}}') as unknown };
    compileMask(["/input/x"])(odd);
    expect(JSON.stringify(odd.input)).toBe('{"__proto__":{"y":2}}');
  });

  it("never change the caller's objects", () => {
    const e = event();
    const input = e.input as { a: { list: number[] } };
    compileMask(["/input/a/list/0", { op: "upsert", path: "/input/a/b", value: "y" }])(e);
    expect(input).toEqual((event().input as object));
  });

  it("hash with the key: the same value gives the same hash, another key another", () => {
    const hash = (key: string) => {
      const e = event();
      compileMask([{ op: "hash", path: "/input/a/b" }], key)(e);
      return (e.input as { a: { b: string } }).a.b;
    };
    expect(hash("k1")).toBe(hash("k1"));
    expect(hash("k1")).not.toBe(hash("k2"));
  });

  it("truncate addresses to their network and erase what is not an address", () => {
    expect(truncateIp("203.0.113.77")).toBe("203.0.113.0");
    expect(truncateIp("203.0.113.77", 16)).toBe("203.0.0.0");
    expect(truncateIp("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1::");
    expect(truncateIp("::ffff:198.51.100.9")).toBe("198.51.100.0");
    expect(truncateIp("not-an-ip")).toBeNull();
  });

  it("refuse rules that would hide the exception trail, or that OPA would refuse, naming the rule", () => {
    const bad: [MaskRule[], string, RegExp][] = [
      [["/result/exceptions"], "mask[0].path", /exception trail/],
      [["/input/x", { op: "remove", path: "/result/obligations/0" }], "mask[1].path", /exception trail/],
      [["/result"], "mask[0].path", /exception trail/],
      [["/labels/id"], "mask[0]", /expected a path/],
      [[{ op: "encrypt", path: "/input/x" } as unknown as MaskRule], "mask[0].op", /./],
    ];
    for (const [rules, path, message] of bad) {
      let error: unknown;
      try {
        compileMask(rules);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AuditConfigInvalidError);
      const issue = (error as AuditConfigInvalidError).issues.find((i) => i.path.startsWith(path));
      expect(issue?.message, JSON.stringify((error as AuditConfigInvalidError).issues)).toMatch(message);
    }
  });
});
