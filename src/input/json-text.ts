/**
 * JSON text written as bytes, as `JSON.stringify` writes it: for the input's JSON writers
 * (src/wasm/input-writer.ts) and the decision log's event writer (src/audit/event-writer.ts).
 * The caller makes room: a string takes at most 6 bytes a UTF-16 unit and 2 for its quotes.
 */
const encoder = new TextEncoder();

/** A string as JSON text: ASCII byte by byte, anything to escape or encode through `JSON.stringify`. */
export function writeJsonString(bytes: Uint8Array, at: number, text: string): number {
  let p = at + 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) return at + encoder.encodeInto(JSON.stringify(text), bytes.subarray(at)).written;
    bytes[p++] = c;
  }
  bytes[at] = 0x22;
  bytes[p] = 0x22;
  return p + 1;
}

/** A number as `JSON.stringify` writes it: as JavaScript prints it, `null` when not finite. */
export function writeJsonNumber(bytes: Uint8Array, at: number, value: number): number {
  // Whole numbers below 2³¹ (counts, times, scores) digit by digit in integer arithmetic, without a string.
  const n = value | 0;
  if (n === value && n >= 0) {
    let end = at + 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) end++;
    let rest = n;
    for (let i = end - 1; i >= at; i--) {
      const next = (rest / 10) | 0;
      bytes[i] = 48 + rest - next * 10;
      rest = next;
    }
    return end;
  }
  const text = Number.isFinite(value) ? "" + value : "null";
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + text.length;
}
