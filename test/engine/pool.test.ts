/**
 * The decision pool: the same decisions as deciding one by one, in order, on several threads
 * sharing one compiled module; bad inputs named by their index in the whole call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import type { DecisionPool } from "../../src/engine/batch/pool.js";
import { guidedBatch } from "../../src/engine/batch/shared-lines.js";
import { InputInvalidError, PoolClosedError } from "../../src/errors.js";
import { sampleInputs } from "../support/arbitraries.js";
import { scenarios, testStepup } from "../helpers.js";

const withoutId = ({ decision_id: _, ...rest }: Decision) => rest;

let pool: DecisionPool;
beforeAll(async () => {
  pool = await (await testStepup()).pool({ size: 2, batchSize: 64 });
});
afterAll(async () => {
  await pool.close();
});

describe("the decision pool", () => {
  it("decides as deciding one by one does, in order", async () => {
    const stepup = await testStepup();
    const raw = [...(await scenarios()).map((s) => s.input), ...sampleInputs(77, 500)].map((i) => JSON.parse(JSON.stringify(i)) as unknown);
    const decisions = await pool.decideMany(raw);
    expect(pool.size).toBe(2);
    expect(decisions).toHaveLength(raw.length);
    expect(decisions.map(withoutId)).toEqual(raw.map((input) => withoutId(stepup.decide(input))));
    expect(new Set(decisions.map((d) => d.decision_id)).size).toBe(raw.length);
  });

  it("names a bad input by its index in the whole call", async () => {
    const good = (await scenarios()).map((s) => s.input);
    const inputs: unknown[] = [...good, ...good, ...good];
    inputs[100] = { ...good[0], now: "yesterday" };
    const error = await pool.decideMany(inputs).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputInvalidError);
    expect((error as InputInvalidError).issues.map((i) => i.path)).toEqual(["[100].now"]);
  });

  it("answers an empty batch at once", async () => {
    expect(await pool.decideMany([])).toEqual([]);
  });

  it("refuses work once closed", async () => {
    const other = await (await testStepup()).pool({ size: 1 });
    await other.close();
    await expect(other.decideMany([{}])).rejects.toThrow(PoolClosedError);
  });
});

describe("the decision pool on NDJSON", () => {
  it("answers one decision per document line, in order, blank lines skipped", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const text = `${inputs.map((i) => JSON.stringify(i)).join("\n\n")}\n`;
    const out = await pool.decideLines(text);
    const decisions = out.trimEnd().split("\n").map((line) => JSON.parse(line) as Decision);
    expect(out.endsWith("\n")).toBe(true);
    expect(decisions.map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decideInput(i))));
  });

  it("names the line that is not JSON or breaks the contract", async () => {
    const good = JSON.stringify((await scenarios())[0]!.input);
    const lines = Array.from({ length: 150 }, () => good);
    lines[130] = "{ not json";
    await expect(pool.decideLines(lines.join("\n"))).rejects.toThrow(/line 131 is not JSON/);
    lines[130] = JSON.stringify({ ...JSON.parse(good), now: -1 });
    const error = await pool.decideLines(lines.join("\n")).catch((err: unknown) => err);
    expect((error as InputInvalidError).issues.map((i) => i.path)).toEqual(["[130].now"]);
  });

  it("names the first bad line of the whole call, whichever thread meets it first", async () => {
    const good = JSON.stringify((await scenarios())[0]!.input);
    const lines = Array.from({ length: 600 }, () => good);
    // The last line of the first chunk (of about 64 lines: all lines are alike) and the first of
    // the second, which the other thread takes at the same time and meets first.
    lines[63] = JSON.stringify({ ...JSON.parse(good), now: -1 });
    lines[64] = "{ not json";
    for (let round = 0; round < 8; round++) {
      const error = await pool.decideLines(lines.join("\n")).catch((err: unknown) => err);
      expect((error as InputInvalidError).issues.map((i) => i.path)).toEqual(["[63].now"]);
    }
    // The pool decides on after a call that failed.
    lines[63] = lines[64] = good;
    expect((await pool.decideLines(lines.join("\n"))).trimEnd().split("\n")).toHaveLength(600);
  });

  it("keeps each call's lines and answers apart, one after another and at once", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const ndjson = (items: unknown[]) => `${items.map((i) => JSON.stringify(i)).join("\n")}\n`;
    const outcomes = (out: string) => out.trimEnd().split("\n").map((line) => (JSON.parse(line) as Decision).outcome);
    const expected = (items: typeof inputs) => items.map((i) => stepup.decide(i).outcome);
    const long = Array.from({ length: 20 }, () => inputs).flat();
    const short = inputs.slice(3, 9).reverse();
    // A shorter call after a longer one reads its own bytes, not the tail of the last call's.
    expect(outcomes(await pool.decideLines(ndjson(long)))).toEqual(expected(long));
    expect(outcomes(await pool.decideLines(ndjson(short)))).toEqual(expected(short));
    const [a, b, c] = await Promise.all([pool.decideLines(ndjson(long)), pool.decideLines(Buffer.from(ndjson(short))), pool.decideLines(ndjson(inputs))]);
    expect(outcomes(a)).toEqual(expected(long));
    expect(outcomes(b.toString("utf8"))).toEqual(expected(short));
    expect(outcomes(c)).toEqual(expected(inputs));
  });

  it("answers bytes with bytes, cutting batches between characters and leaving the caller's buffer whole", async () => {
    const stepup = await testStepup();
    // Multi-byte characters (2, 3 and 4 bytes in UTF-8) in every line, so batch edges fall among them.
    const inputs = (await scenarios()).map((s, i) => ({ ...s.input, subject: { ...s.input.subject, id: `zoë-東京-🙂-${i}@example.com` } }));
    const text = `${inputs.map((i) => JSON.stringify(i)).join("\n")}\n`;
    const bytes = new TextEncoder().encode(text);
    const small = await stepup.pool({ size: 2, batchSize: 3 });
    try {
      const out = await small.decideLines(bytes);
      expect(Buffer.isBuffer(out)).toBe(true);
      const decisions = out.toString("utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Decision);
      expect(decisions.map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decideInput(i))));
      expect((await small.decideLines(text)).split("\n").map((line) => line.replace(/"decision_id":"[^"]+"/, ""))).toEqual(
        out.toString("utf8").split("\n").map((line) => line.replace(/"decision_id":"[^"]+"/, "")),
      );
      // The threads read a copy: the caller's bytes are neither moved nor changed.
      expect(new TextDecoder().decode(bytes)).toBe(text);
    } finally {
      await small.close();
    }
  });

  it("writes answers into the shared memory of earlier answers handed back, and into no other", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const ndjson = (items: unknown[]) => Buffer.from(`${items.map((i) => JSON.stringify(i)).join("\n")}\n`);
    const outcomes = (out: Buffer) => out.toString("utf8").trimEnd().split("\n").map((line) => (JSON.parse(line) as Decision).outcome);
    const expected = (items: typeof inputs) => items.map((i) => stepup.decide(i).outcome);
    const long = Array.from({ length: 10 }, () => inputs).flat();
    const first = await pool.decideLines(ndjson(long));
    const second = await pool.decideLines(ndjson(inputs), { into: first });
    expect(second.buffer).toBe(first.buffer);
    expect(outcomes(second)).toEqual(expected(inputs));
    // The same call again fits in what it wrote last time.
    const third = await pool.decideLines(ndjson(long), { into: second });
    expect(third.buffer).toBe(first.buffer);
    expect(outcomes(third)).toEqual(expected(long));
    // One thread's answers are not shared memory, and shared memory that never held answers is
    // the caller's own: neither is written.
    const unshared = stepup.decideLines(ndjson(long));
    const before = Buffer.from(unshared);
    const mine = Buffer.from(new SharedArrayBuffer(1 << 20)).fill(0x2a);
    for (const into of [unshared, mine]) {
      const out = await pool.decideLines(ndjson(inputs), { into });
      expect(out.buffer).not.toBe(into.buffer);
      expect(outcomes(out)).toEqual(expected(inputs));
    }
    expect(unshared.equals(before)).toBe(true);
    expect(mine.every((byte) => byte === 0x2a)).toBe(true);
  });

  it("cuts the end of a call into shrinking batches, so the threads finish together", () => {
    const cut = (total: number, batchSize: number, slots: number) => {
      const sizes: number[] = [];
      for (let left = total; left > 0; left -= sizes.at(-1)!) sizes.push(Math.min(left, guidedBatch(left, batchSize, slots)));
      return sizes;
    };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const sizes = cut(9000, 128, 4);
    expect(sum(sizes)).toBe(9000);
    expect(sizes[0]).toBe(128);
    const shrinking = sizes.slice(sizes.findIndex((n) => n < 128));
    expect(shrinking.every((n, i) => i === 0 || n <= shrinking[i - 1]!)).toBe(true);
    // What is still in flight when the last batch leaves is a few inputs, not two full batches.
    expect(sum(sizes.slice(-4))).toBeLessThanOrEqual(16);
    // A small call still reaches every thread; the configured size stays the ceiling.
    expect(cut(288, 128, 4).length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...cut(100, 3, 4))).toBe(3);
    expect(cut(3, 128, 4)).toEqual([3]);
  });

  it("answers empty text with empty text", async () => {
    expect(await pool.decideLines("")).toBe("");
    expect(await pool.decideLines("\n\n")).toBe("");
    expect((await pool.decideLines(new Uint8Array(0))).length).toBe(0);
  });
});
