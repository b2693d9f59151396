/**
 * NDJSON shared among the pool's threads (src/engine/batch/shared-lines.ts): chunks cut by bytes, each
 * line decided by exactly one chunk — the one it starts in — and a bad line stopping the chunks
 * after its own, never those before.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineChunks, shareLines } from "../../src/engine/batch/shared-lines.js";

/** Bytes in shared memory, as the pool copies them, in a buffer longer than they are (kept memory). */
function shared(text: string): Buffer {
  const bytes = Buffer.from(text);
  const memory = Buffer.from(new SharedArrayBuffer(bytes.length + 64)).fill(0x0a);
  memory.set(bytes);
  return memory.subarray(0, bytes.length);
}

/** Every chunk's lines, in chunk order, as the threads would find them. */
function linesByChunk(chunks: LineChunks): string[][] {
  const out: string[][] = [];
  for (let chunk = chunks.take(); chunk >= 0; chunk = chunks.take()) {
    const { start, end } = chunks.lines(chunk);
    const text = chunks.bytes.toString("utf8", start, end);
    out[chunk] = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  }
  return out;
}

describe("lines shared among threads", () => {
  it("gives every line to exactly one chunk, in order, whatever the lines' lengths", () => {
    const line = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 200, maxLength: 3000 })).map((s) => s.replaceAll("\n", " "));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 120 }), fc.boolean(), fc.integer({ min: 1, max: 16 }), (lines, newlineAtEnd, batch) => {
        const text = lines.join("\n") + (newlineAtEnd ? "\n" : "");
        const chunks = new LineChunks(shareLines(shared(text), batch, 2));
        const found = linesByChunk(chunks);
        expect(found).toHaveLength(chunks.count);
        // Zero bytes are no line at all (one empty line with no newline after it is zero bytes).
        expect(found.flat()).toEqual(text === "" ? [] : text.replace(/\n$/, "").split("\n"));
      }),
    );
  });

  it("cuts by bytes, about the batch's lines a chunk, smaller toward the end", () => {
    const text = `${Array.from({ length: 9000 }, (_, i) => `{"n":${i % 10},"pad":"${"x".repeat(800)}"}`).join("\n")}\n`;
    const chunks = new LineChunks(shareLines(shared(text), 128, 2));
    const sizes = linesByChunk(chunks).map((lines) => lines.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(9000);
    expect(Math.abs(sizes[0]! - 128)).toBeLessThanOrEqual(1);
    expect(sizes.at(-1)!).toBeLessThanOrEqual(5);
    expect(sizes.slice(sizes.findIndex((n) => n < 120)).every((n, i, tail) => i === 0 || n <= tail[i - 1]! + 1)).toBe(true);
  });

  it("hands out every chunk up to the first with a bad line, and none after it", () => {
    const text = `${Array.from({ length: 400 }, (_, i) => `line ${i}`).join("\n")}\n`;
    const lines = shareLines(shared(text), 10, 2);
    const [one, two] = [new LineChunks(lines), new LineChunks(lines)];
    expect([one.take(), two.take()]).toEqual([0, 1]);
    // A bad line in chunk 3, met while chunks 2 and 3 are still being handed out (the window
    // between a thread's taking a chunk and its looking at the stop); then one in chunk 5, which
    // does not move the stop back.
    two.stopAfter(3);
    two.stopAfter(5);
    expect([one.take(), one.take(), two.take(), one.take()]).toEqual([2, 3, -1, -1]);
  });
});
