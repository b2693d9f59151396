/**
 * NDJSON decided line by line (src/engine/batch/ndjson.ts): `Stepup.decideLines` on one thread, and the
 * answers' buffer the pool's threads write into.
 */
import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/contracts/decision.js";
import { Answers } from "../../src/engine/batch/ndjson.js";
import { InputInvalidError, InputNotJsonError } from "../../src/errors.js";
import { sampleInputs } from "../support/arbitraries.js";
import { scenarios, testStepup } from "../helpers.js";

const withoutId = ({ decision_id: _, ...rest }: Decision) => rest;
const decisionsOf = (out: string) => out.trimEnd().split("\n").map((line) => JSON.parse(line) as Decision);

describe("deciding NDJSON on one thread", () => {
  it("answers one decision per document line, in order, as deciding one by one does", async () => {
    const stepup = await testStepup();
    const inputs = [...(await scenarios()).map((s) => s.input), ...sampleInputs(91, 300)];
    // Blank lines (empty, spaces, a carriage return) are skipped; a last line needs no newline.
    const text = inputs.map((i, n) => JSON.stringify(i) + (n % 7 === 0 ? "\n \n\r" : "")).join("\n");
    const out = stepup.decideLines(text);
    expect(out.endsWith("\n")).toBe(true);
    expect(decisionsOf(out).map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decide(JSON.parse(JSON.stringify(i))))));
  });

  it("answers bytes with bytes, characters of every width intact", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s, i) => ({ ...s.input, subject: { ...s.input.subject, id: `zoë-東京-🙂-${i}@example.com` } }));
    const bytes = new TextEncoder().encode(inputs.map((i) => JSON.stringify(i)).join("\n"));
    const out = stepup.decideLines(bytes);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(decisionsOf(out.toString("utf8")).map(withoutId)).toEqual(inputs.map((i) => withoutId(stepup.decide(i))));
    // A view into the middle of a larger buffer reads only its own bytes.
    const framed = new Uint8Array(bytes.length + 10).fill(0x7b);
    framed.set(bytes, 5);
    expect(decisionsOf(stepup.decideLines(framed.subarray(5, 5 + bytes.length)).toString("utf8"))).toHaveLength(inputs.length);
  });

  it("names the first line that is not JSON or breaks the contract, counting blank lines", async () => {
    const stepup = await testStepup();
    const good = JSON.stringify((await scenarios())[0]!.input);
    const lines = [good, "", good, "{ not json", JSON.stringify({ ...JSON.parse(good), now: -1 })];
    expect(() => stepup.decideLines(lines.join("\n"))).toThrow(InputNotJsonError);
    expect(() => stepup.decideLines(lines.join("\n"))).toThrow(/line 4 is not JSON/);
    lines[3] = good;
    const error = (() => {
      try {
        stepup.decideLines(lines.join("\n"));
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(InputInvalidError);
    expect((error as InputInvalidError).issues.map((i) => i.path)).toEqual(["[4].now"]);
  });

  it("gives each call answers of its own, though the buffer they are written into is kept", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const ndjson = (items: unknown[]) => Buffer.from(`${items.map((i) => JSON.stringify(i)).join("\n")}\n`);
    const first = stepup.decideLines(ndjson(inputs));
    const copy = Buffer.from(first);
    // A shorter call, then a failing one, write over the kept buffer: the first answers stay as they were.
    const second = stepup.decideLines(ndjson(inputs.slice(0, 2)));
    expect(() => stepup.decideLines(ndjson([inputs[0], { now: "soon" }]))).toThrow(InputInvalidError);
    expect(first.equals(copy)).toBe(true);
    expect(decisionsOf(second.toString("utf8")).map((d) => d.outcome)).toEqual(inputs.slice(0, 2).map((i) => stepup.decide(i).outcome));
  });

  it("writes answers into the memory of earlier answers handed back, and into no other", async () => {
    const stepup = await testStepup();
    const inputs = (await scenarios()).map((s) => s.input);
    const ndjson = (items: unknown[]) => Buffer.from(`${items.map((i) => JSON.stringify(i)).join("\n")}\n`);
    const outcomes = (out: Buffer) => decisionsOf(out.toString("utf8")).map((d) => d.outcome);
    const first = stepup.decideLines(ndjson(inputs));
    // Fewer answers fit in the earlier ones' memory: a view of it, holding the new answers only.
    const second = stepup.decideLines(ndjson(inputs.slice(0, 5)), { into: first });
    expect(second.buffer).toBe(first.buffer);
    expect(outcomes(second)).toEqual(inputs.slice(0, 5).map((i) => stepup.decide(i).outcome));
    // More than fit: fresh memory, and the earlier answers stay as they were.
    const before = Buffer.from(second);
    const third = stepup.decideLines(ndjson([...inputs, ...inputs]), { into: second });
    expect(third.buffer).not.toBe(second.buffer);
    expect(second.equals(before)).toBe(true);
    expect(outcomes(third)).toEqual([...inputs, ...inputs].map((i) => stepup.decide(i).outcome));
    // A buffer that never held answers is never written, however large.
    const mine = Buffer.alloc(1 << 20, 0x2a);
    const fourth = stepup.decideLines(ndjson(inputs), { into: mine });
    expect(fourth.buffer).not.toBe(mine.buffer);
    expect(mine.every((byte) => byte === 0x2a)).toBe(true);
  });

  it("answers nothing for nothing", async () => {
    const stepup = await testStepup();
    expect(stepup.decideLines("")).toBe("");
    expect(stepup.decideLines("\n \n")).toBe("");
    expect(stepup.decideLines(new Uint8Array(0)).length).toBe(0);
  });
});

describe("the answers' buffer", () => {
  it("grows to hold what is written, keeping what was there", () => {
    const answers = new Answers(Buffer.alloc(4));
    const written = ["a", "ÿ".repeat(10), "東京🙂", "x".repeat(1000)];
    for (const answer of written) answers.write(answer);
    expect(answers.bytes.toString("utf8")).toBe(`${written.join("\n")}\n`);
    expect(answers.used).toBe(Buffer.byteLength(`${written.join("\n")}\n`));
  });
});
