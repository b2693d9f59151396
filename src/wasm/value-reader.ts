/**
 * Reads a value the policy computed straight out of the module's memory, in place of having OPA
 * write it out as JSON (`opa_json_dump`) and parsing that text again. Both steps cost more than
 * the walk: OPA's writer steps through objects and sets with `opa_value_iter`, which hashes each
 * element again to find the next, and `JSON.parse` re-creates every string, while most strings of
 * a verdict are the policy's constants or the data's, which do not change between evaluations and
 * are read once here and kept.
 *
 * The layout of OPA's values (layout.ts) is the runtime's, not part of its ABI, so the host proves the reader on every instance before use (host.ts, `provenReader`):
 * OPA parses a document with every kind of value and the walk is compared with OPA's own JSON of
 * it. Where they differ, the host keeps to `opa_json_dump`. What the walk does not know (a new type or number form, an object
 * key that is not a string) it hands back as `FOREIGN`, and the host dumps that value as JSON.
 * The result is the same, in the same order: objects and sets are walked bucket by bucket, the
 * order OPA's writer takes.
 */

import { ARRAY_ELEM_T, ARRAY_T, BOOLEAN_T, NUMBER_REF_T, NUMBER_REPR, NUMBER_T, OBJECT_ELEM_T, OBJECT_T, POINTER_BYTES, SET_ELEM_T, SET_T, STRING_T, TYPE } from "./layout.js";

/** The answer for a value the walk does not read; the caller falls back to OPA's JSON. */
export const FOREIGN: unique symbol = Symbol("foreign");

// The layout as module constants: the walk reads every value of every result through them.
const { NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET, STRING_INTERNED, BOOLEAN_INTERNED } = TYPE;
const [REPR_INT, REPR_REF] = [NUMBER_REPR.INT, NUMBER_REPR.REF];
const [BOOLEAN_V, STRING_LEN, STRING_V] = [BOOLEAN_T.v, STRING_T.len, STRING_T.v];
const [ARRAY_ELEMS, ARRAY_LEN, ARRAY_ELEM_SIZE, ARRAY_ELEM_V] = [ARRAY_T.elems, ARRAY_T.len, ARRAY_ELEM_T.size, ARRAY_ELEM_T.v];
const [OBJECT_BUCKETS, OBJECT_N, OBJECT_K, OBJECT_V, OBJECT_NEXT] = [OBJECT_T.buckets, OBJECT_T.n, OBJECT_ELEM_T.k, OBJECT_ELEM_T.v, OBJECT_ELEM_T.next];
const [SET_BUCKETS, SET_N, SET_V, SET_NEXT] = [SET_T.buckets, SET_T.n, SET_ELEM_T.v, SET_ELEM_T.next];
const [NUMBER_REPR_AT, NUMBER_I, REF_S, REF_LEN] = [NUMBER_T.repr, NUMBER_T.v, NUMBER_T.v + NUMBER_REF_T.s, NUMBER_T.v + NUMBER_REF_T.len];

/** A number as JSON writes one: what a ref number's text must be to be read without OPA's JSON. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Strings up to this many bytes are decoded by hand when ASCII (cheaper than a Buffer call). */
const SHORT = 32;

class Foreign extends Error {}

/** A string or number read from text that does not change, and the text's length in bytes. */
interface Kept {
  readonly length: number;
  readonly value: string | number;
}

export class ValueReader {
  private view: DataView;
  private bytes: Buffer;
  /**
   * Strings and numbers whose text lies where nothing is written between evaluations (OPA keeps a
   * number parsed from JSON as its text), by the text's address.
   */
  private readonly kept = new Map<number, Kept>();
  private stableFrom = 0;
  private stableTo = 0;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.view = new DataView(memory.buffer);
    this.bytes = Buffer.from(memory.buffer);
  }

  /**
   * Marks memory `[from, to)` (the data document) as unchanging until the next call, besides the
   * module's interned strings; the strings and numbers kept from before are dropped.
   */
  stable(from: number, to: number): void {
    this.kept.clear();
    this.stableFrom = from;
    this.stableTo = to;
  }

  /** The value at `addr` as JSON would carry it, or `FOREIGN` when the walk does not know its form. */
  read(addr: number): unknown {
    if (this.bytes.length === 0) {
      // The memory grew, which detaches the old buffer and every view of it.
      this.view = new DataView(this.memory.buffer);
      this.bytes = Buffer.from(this.memory.buffer);
    }
    try {
      return this.value(addr);
    } catch (err) {
      if (err instanceof Foreign) return FOREIGN;
      throw err;
    }
  }

  private value(addr: number): unknown {
    const view = this.view;
    switch (view.getUint8(addr)) {
      case NULL:
        return null;
      case BOOLEAN:
      case BOOLEAN_INTERNED:
        return view.getUint8(addr + BOOLEAN_V) !== 0;
      case NUMBER:
        return this.number(addr);
      case STRING:
        return this.string(view.getUint32(addr + STRING_V, true), view.getUint32(addr + STRING_LEN, true), false);
      case STRING_INTERNED:
        return this.string(view.getUint32(addr + STRING_V, true), view.getUint32(addr + STRING_LEN, true), true);
      case ARRAY: {
        const elems = view.getUint32(addr + ARRAY_ELEMS, true);
        const out = new Array<unknown>(view.getUint32(addr + ARRAY_LEN, true));
        for (let i = 0; i < out.length; i++) out[i] = this.value(view.getUint32(elems + ARRAY_ELEM_SIZE * i + ARRAY_ELEM_V, true));
        return out;
      }
      case OBJECT: {
        // Bucket by bucket, each bucket's chain in order: the order OPA's writer takes.
        const out: Record<string, unknown> = {};
        const buckets = view.getUint32(addr + OBJECT_BUCKETS, true);
        const n = view.getUint32(addr + OBJECT_N, true);
        for (let b = 0; b < n; b++) {
          for (let elem = view.getUint32(buckets + POINTER_BYTES * b, true); elem !== 0; elem = view.getUint32(elem + OBJECT_NEXT, true)) {
            const key = view.getUint32(elem + OBJECT_K, true);
            const tag = view.getUint8(key);
            // OPA's writer gives other keys as their JSON text: left to it.
            if (tag !== STRING && tag !== STRING_INTERNED) throw new Foreign();
            const name = this.value(key) as string;
            const value = this.value(view.getUint32(elem + OBJECT_V, true));
            // As JSON.parse does: "__proto__" is a key like any other, not the object's prototype.
            if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
            else out[name] = value;
          }
        }
        return out;
      }
      case SET: {
        // JSON carries a set as an array.
        const out: unknown[] = [];
        const buckets = view.getUint32(addr + SET_BUCKETS, true);
        const n = view.getUint32(addr + SET_N, true);
        for (let b = 0; b < n; b++) {
          for (let elem = view.getUint32(buckets + POINTER_BYTES * b, true); elem !== 0; elem = view.getUint32(elem + SET_NEXT, true)) {
            out.push(this.value(view.getUint32(elem + SET_V, true)));
          }
        }
        return out;
      }
      default:
        throw new Foreign();
    }
  }

  /** An opa_number_t: its 64-bit integer (low word first), or the text of its ref. */
  private number(addr: number): number {
    const view = this.view;
    const repr = view.getUint8(addr + NUMBER_REPR_AT);
    if (repr === REPR_INT) return view.getInt32(addr + NUMBER_I + 4, true) * 4294967296 + view.getUint32(addr + NUMBER_I, true);
    if (repr !== REPR_REF) throw new Foreign();
    const start = view.getUint32(addr + REF_S, true);
    const length = view.getUint32(addr + REF_LEN, true);
    if (!this.isStable(start, length, false)) return this.numberText(start, length);
    const kept = this.kept.get(start);
    if (kept !== undefined && kept.length === length && typeof kept.value === "number") return kept.value;
    const value = this.numberText(start, length);
    this.kept.set(start, { length, value });
    return value;
  }

  private numberText(start: number, length: number): number {
    const bytes = this.bytes;
    // Small integers, the most common, by hand.
    if (length <= 9) {
      let i = start;
      const negative = bytes[i] === 0x2d;
      if (negative) i++;
      let value = 0;
      for (; i < start + length; i++) {
        const digit = bytes[i]! - 0x30;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      const leadingZero = bytes[negative ? start + 1 : start] === 0x30 && length > (negative ? 2 : 1);
      if (i === start + length && i > (negative ? start + 1 : start) && !leadingZero) return negative ? -value : value;
    }
    const text = bytes.toString("latin1", start, start + length);
    // Number() reads JSON's numbers as JSON.parse does; anything else is left to OPA's writer.
    if (!JSON_NUMBER.test(text)) throw new Foreign();
    return Number(text);
  }

  /** Whether text at `start` stays as it is between evaluations: the module's interned strings and the data. */
  private isStable(start: number, length: number, interned: boolean): boolean {
    return interned || (start >= this.stableFrom && start + length <= this.stableTo);
  }

  /** An opa_string_t's text: the `len` bytes at `v`, UTF-8. */
  private string(start: number, length: number, interned: boolean): string {
    if (this.isStable(start, length, interned)) {
      const kept = this.kept.get(start);
      if (kept !== undefined && kept.length === length && typeof kept.value === "string") return kept.value;
      const text = this.bytes.toString("utf8", start, start + length);
      this.kept.set(start, { length, value: text });
      return text;
    }
    if (length <= SHORT) {
      const bytes = this.bytes;
      let text = "";
      for (let i = start; i < start + length; i++) {
        const byte = bytes[i]!;
        if (byte >= 0x80) return bytes.toString("utf8", start, start + length);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return this.bytes.toString("utf8", start, start + length);
  }
}
