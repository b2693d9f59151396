/**
 * The ring between the deciding thread and a sink's spool thread: whatever mix of lines copied in
 * (`write`, `writeBytes`) and written in place (`writeInPlace`, the logger's path) and of drains,
 * the reader gets every line the writer was told was kept, in order and byte for byte, across the
 * ring's end, and none it was told was not; a line written in place never runs past the room it
 * was given.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateRing, IN_PLACE_LEAST, RingReader, RingWriter } from "../../src/audit/spool/ring.js";

type Op =
  | { readonly kind: "write" | "bytes" | "in place" | "in place, given up" | "in place, all the room"; readonly size: number; readonly fill: number }
  | { readonly kind: "drain"; readonly max: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("write" as const, "bytes" as const, "in place" as const, "in place, given up" as const, "in place, all the room" as const),
    size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1_000, max: 40_000 }), fc.integer({ min: 60_000, max: 140_000 })),
    fill: fc.integer({ min: 0x21, max: 0x7e }),
  }),
  fc.record({ kind: fc.constant("drain" as const), max: fc.integer({ min: 1, max: 400_000 }) }),
);

describe("the ring", () => {
  it("hands the reader exactly the lines it kept, in order, whichever way they were written", () => {
    let inPlace = 0;
    fc.assert(
      fc.property(fc.constantFrom(64 * 1024, 256 * 1024, 300 * 1024), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
        const memory = allocateRing(capacity);
        const writer = new RingWriter(memory);
        const reader = new RingReader(memory);
        const kept: string[] = [];
        const read: string[] = [];
        const drain = (max: number) => {
          const out = Buffer.alloc(max + 1);
          const { bytes } = reader.drain(out);
          const text = out.toString("latin1", 0, bytes);
          if (bytes > 0) read.push(...text.slice(0, -1).split("\n"));
        };
        for (const step of ops) {
          if (step.kind === "drain") {
            drain(Math.max(step.max, 140_001));
            continue;
          }
          const line = String.fromCharCode(step.fill).repeat(step.size);
          if (step.kind === "write") {
            if (writer.write(line) === "ok") kept.push(line);
          } else if (step.kind === "bytes") {
            const bytes = Buffer.from(`${line}junk`, "latin1");
            if (writer.writeBytes(bytes, step.size) === "ok") kept.push(line);
          } else {
            const giveUp = step.kind === "in place, given up";
            let text = line;
            const n = writer.writeInPlace((bytes, at, end) => {
              expect(end - at).toBeGreaterThanOrEqual(IN_PLACE_LEAST);
              expect(end).toBeLessThanOrEqual(bytes.length);
              if (giveUp) return -2;
              // Every byte of the room given is free: past it lie unread lines, or the ring's end.
              if (step.kind === "in place, all the room") text = String.fromCharCode(step.fill).repeat(end - at);
              if (text.length > end - at) return -1;
              (bytes as Buffer).write(text, at, "latin1");
              return at + text.length;
            }, undefined);
            if (n >= 0) {
              kept.push(text);
              inPlace++;
            } else if (!giveUp && n === -1 && writer.writeBytes(Buffer.from(line, "latin1"), line.length) === "ok") {
              kept.push(line);
            }
          }
        }
        for (let i = 0; i < 100 && reader.pending; i++) drain(400_000);
        expect(reader.pending).toBe(false);
        expect(read.length).toBe(kept.length);
        read.forEach((line, i) => expect(line === kept[i], `line ${i} of ${kept.length}`).toBe(true));
      }),
      { numRuns: 300 },
    );
    expect(inPlace).toBeGreaterThan(100);
  });

  it("writes in place across the ring's end, behind a wrap marker", () => {
    const memory = allocateRing(256 * 1024);
    const writer = new RingWriter(memory);
    const reader = new RingReader(memory);
    const out = Buffer.alloc(512 * 1024);
    const line = "x".repeat(50_000);
    const write = (bytes: Uint8Array, at: number, end: number, text: string) => (end - at < text.length ? -1 : at + (bytes as Buffer).write(text, at, "latin1"));
    let starts = 0;
    let lines = 0;
    for (let i = 0; i < 20; i++) {
      const n = writer.writeInPlace(write, line);
      expect(n).toBeGreaterThan(0);
      if (n === 4 + line.length) starts++;
      lines += reader.drain(out).lines;
    }
    expect(lines).toBe(20);
    expect(starts).toBeGreaterThan(1);
  });
});
