/**
 * A host of our own over OPA's WebAssembly ABI (1.2 and later): instantiates a policy module,
 * loads data once, and evaluates. The input goes straight into the module's memory: written there
 * by a compiled writer as OPA's values (no parsing in the module) or as JSON, or copied as bytes.
 * Results come back as values read from memory by the
 * value reader (value-reader.ts), which the module is first shown to agree with, or else as OPA's
 * JSON; as text, from the single-call `opa_eval`. It passes OPA's own wasm conformance cases
 * (test/wasm/conformance.test.ts) and gives the stock SDK's results on our policy
 * (test/wasm/host.test.ts).
 */
import { BundleInvalidError, EngineEvaluationError } from "../errors.js";
import type { ValueForm } from "./input-writer.js";
import { ARRAY_ELEM_T, ARRAY_T, BOOLEAN_T, NUMBER_REPR, NUMBER_T, OBJECT_ELEM_T, OBJECT_T, POINTER_BYTES, STRING_T, TYPE } from "./layout.js";
import { REWRITES } from "./rewrite/names.js";
import { FOREIGN, ValueReader } from "./value-reader.js";

/** A builtin implemented in JavaScript: JSON values in, a JSON value out (undefined when undefined). */
export type Builtin = (...args: unknown[]) => unknown;

export interface HostOptions {
  /** Builtins the module calls by name (OPA compiles calls it cannot run natively to imports). */
  readonly builtins?: Readonly<Record<string, Builtin>>;
  /** Where the policy's `print` output goes; dropped by default. */
  readonly println?: (line: string) => void;
  /**
   * The rewrites of OPA's runtime the module was built with, as the bundle's manifest records
   * them (rewrite/names.ts); none by default. The value form takes the module's constant strings
   * as object keys only with `constant-keys`.
   */
  readonly rewrites?: readonly string[];
  /**
   * Read results from memory with the value reader once it is proven on the module (default
   * true); false leaves results to OPA's JSON, and `readsValues` is false.
   */
  readonly valueReader?: boolean;
  /** Called when a result holds a value the value reader does not know, which is then read through OPA's JSON. */
  readonly onForeignValue?: () => void;
}

/** Writes an input document at `at` and returns where it ends, or a negative answer (see input-writer.ts). */
export type Writer<T> = (bytes: Uint8Array, at: number, value: T) => number;

const PAGE = 65_536;
/**
 * Every kind of value OPA's wasm holds, in OPA's value syntax (a set literal included): what the
 * value reader must read exactly as OPA's JSON writer writes it before an instance uses it.
 */
const PROBE =
  '{"null": null, "yes": true, "no": false, "int": -12345678901, "past 2^53": 9007199254740993, "ref": 1.5e3, "fraction": -0.25, ' +
  '"ascii": "abc", "utf-8": "ünï €😀", "empty": "", "escaped": "q\\"b\\\\s\\n\\u0001", "long": "' + "x".repeat(100) + '", ' +
  '"array": [1, [2, []], {}], "set": {1, "x", [true], {"k": null}}, "object": {"a": {"b": [null, 0.5]}}}';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One instance of a compiled policy, with its data loaded. Synchronous and single-threaded: each
 * thread instantiates the same (shareable) `WebAssembly.Module` for itself.
 */
export class OpaInstance {
  /** Entrypoint names to the numbers the evaluate methods take. */
  readonly entrypoints: Readonly<Record<string, number>>;
  /** Builtins the module calls out for, by name, with the ids the module gives them. */
  readonly builtins: Readonly<Record<string, number>>;
  /** Whether results are read from memory (the module agreed with the value reader) rather than as OPA's JSON. */
  readonly readsValues: boolean;
  private bytes: Uint8Array;
  private decode: (start: number, end: number) => string;
  private readonly heapBase: number;
  private heap: number;
  private dataAddr = 0;
  private readonly reader: ValueReader | undefined;
  /** Whether OPA's parser in this module gives a string equal to one of its constants as that constant. */
  private readonly constantKeys: boolean;

  private readonly onForeignValue: (() => void) | undefined;

  private constructor(private readonly abi: Abi, private readonly memory: WebAssembly.Memory, options: HostOptions) {
    this.constantKeys = options.rewrites?.includes(REWRITES.constantKeys) ?? false;
    this.onForeignValue = options.onForeignValue;
    this.bytes = new Uint8Array(memory.buffer);
    this.decode = decoderFor(this.bytes);
    this.entrypoints = this.readJson(abi.entrypoints()) as Record<string, number>;
    this.builtins = this.readJson(abi.builtins()) as Record<string, number>;
    this.heapBase = abi.opa_heap_ptr_get();
    this.heap = this.heapBase;
    this.reader = options.valueReader === false ? undefined : this.provenReader();
    this.readsValues = this.reader !== undefined;
  }

  /**
   * Instantiates a compiled module. Throws `BundleInvalidError` when the module speaks another ABI
   * or calls builtins that `options.builtins` does not provide.
   */
  static create(module: WebAssembly.Module, options: HostOptions = {}): OpaInstance {
    const memory = new WebAssembly.Memory({ initial: 5 });
    let self: OpaInstance | undefined;
    const call = (id: number, args: number[]): number => self!.callBuiltin(id, args, options.builtins ?? {});
    const env = {
      memory,
      opa_abort: (addr: number) => {
        throw new EngineEvaluationError(`policy aborted: ${self ? self.readText(addr) : "during start-up"}`);
      },
      opa_println: (addr: number) => options.println?.(self!.readText(addr)),
      opa_builtin0: (id: number) => call(id, []),
      opa_builtin1: (id: number, _ctx: number, a: number) => call(id, [a]),
      opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, [a, b]),
      opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, [a, b, c]),
      opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, [a, b, c, d]),
    };
    let exports: Record<string, unknown>;
    try {
      exports = new WebAssembly.Instance(module, { env }).exports;
    } catch (err) {
      throw new BundleInvalidError("policy.wasm", `it does not instantiate: ${(err as Error).message}`, { cause: err });
    }
    const version = (name: string) => Number((exports[name] as WebAssembly.Global | undefined)?.value ?? 0);
    const [major, minor] = [version("opa_wasm_abi_version"), version("opa_wasm_abi_minor_version")];
    if (major !== 1 || minor < 2) {
      throw new BundleInvalidError("policy.wasm", `it speaks OPA wasm ABI ${major}.${minor}; this engine needs 1.2 or later`);
    }
    const absent = ABI_FUNCTIONS.filter((name) => typeof exports[name] !== "function");
    if (absent.length > 0) throw new BundleInvalidError("policy.wasm", `it lacks functions of OPA's wasm ABI: ${absent.join(", ")}`);
    self = new OpaInstance(exports as unknown as Abi, memory, options);
    const missing = Object.keys(self.builtins).filter((name) => !options.builtins?.[name]);
    if (missing.length > 0) {
      throw new BundleInvalidError("policy.wasm", `it calls builtins this engine does not provide: ${missing.sort().join(", ")}`);
    }
    return self;
  }

  /** Loads the data document (JSON text, or a value to serialize); evaluations start after it. */
  setData(data: unknown): void {
    this.abi.opa_heap_ptr_set(this.heapBase);
    this.dataAddr = this.loadJson(typeof data === "string" ? data : JSON.stringify(data));
    this.heap = this.abi.opa_heap_ptr_get();
    // The data stays put until the next setData: its strings can be read once and kept.
    this.reader?.stable(this.heapBase, this.heap);
  }

  /** Makes room for inputs of up to `bytes` once, so that writers need not check for space. */
  reserveInput(bytes: number): void {
    this.reserve(this.valueInputAt + bytes);
  }

  /**
   * Makes this instance take inputs written as OPA's values (input-writer.ts compiled with the
   * form returned): the form's constants — strings for object keys, null, true, false and list
   * indices up to `indexCount` — are written after the data, once, and each object's layout is
   * learnt from OPA's own parser. When the module was built with the `constant-keys` rewrite
   * (`HostOptions.rewrites`), a key OPA's parser makes one of the module's constant strings is that
   * constant here too, not a copy (`staticKey`). The form lasts until the next `setData`.
   */
  valueForm(indexCount: number): ValueForm {
    const keys = new Map<string, number>();
    // What `prepare` learnt from one parse: each object's layout, and each key's constant or its absence.
    const layouts = new Map<string, { buckets: number; chains: number[][] }>();
    const constants = new Map<string, number | undefined>();
    const ints = () => new Int32Array(this.memory.buffer);
    // Constants go where evaluations would start, which then start after them.
    const take = (bytes: number): number => {
      const at = (this.heap + 7) & ~7;
      this.reserve(at + bytes);
      this.heap = at + bytes;
      return at;
    };
    // null (a bare opa_value), then true and false (opa_boolean_t), each 2-aligned.
    const literals = take(4 + 2 * BOOLEAN_T.size);
    const [yes, no] = [literals + 4, literals + 4 + BOOLEAN_T.size];
    const bytes = this.view();
    bytes[literals] = TYPE.NULL;
    [bytes[yes + BOOLEAN_T.hdr], bytes[yes + BOOLEAN_T.v], bytes[no + BOOLEAN_T.hdr], bytes[no + BOOLEAN_T.v]] = [TYPE.BOOLEAN, 1, TYPE.BOOLEAN, 0];
    const indices = take(NUMBER_T.size * indexCount);
    const [view, words] = [this.view(), ints()];
    for (let i = 0; i < indexCount; i++) {
      const at = indices + NUMBER_T.size * i;
      [view[at + NUMBER_T.hdr], view[at + NUMBER_T.repr]] = [TYPE.NUMBER, NUMBER_REPR.INT];
      // long long i: the low word, then the high.
      words.set([i, 0], (at + NUMBER_T.v) >> 2);
    }
    return {
      null: literals,
      true: yes,
      false: no,
      indices,
      indexCount,
      key: (name) => {
        let at = keys.get(name);
        if (at === undefined) {
          at = !this.constantKeys ? undefined : constants.has(name) ? constants.get(name) : this.staticKey(name);
          if (at === undefined) {
            const text = encoder.encode(name);
            at = take(STRING_T.size + text.length);
            const bytes = this.view();
            [bytes[at + STRING_T.hdr], bytes[at + STRING_T.free]] = [TYPE.STRING, 0];
            const words = ints();
            words[(at + STRING_T.len) >> 2] = text.length;
            words[(at + STRING_T.v) >> 2] = at + STRING_T.size;
            bytes.set(text, at + STRING_T.size);
          }
          keys.set(name, at);
        }
        return at;
      },
      layout: (names) => {
        const known = layouts.get(JSON.stringify(names));
        if (known) return known;
        try {
          return this.objectLayout(names);
        } finally {
          this.abi.opa_heap_ptr_set(this.heap);
        }
      },
      prepare: (objects) => {
        const pending = objects.filter((names) => !layouts.has(JSON.stringify(names)));
        if (pending.length === 0) return;
        // The same answers as one parse per object and per key, from a single parse of them all:
        // a writer's objects came to ~120 crossings into the module, each with its own setup.
        try {
          const learnt = this.objectLayouts(pending, (name, key) => {
            if (!constants.has(name)) constants.set(name, this.isStaticKey(key) ? key : undefined);
          });
          pending.forEach((names, n) => layouts.set(JSON.stringify(names), learnt[n]!));
        } finally {
          this.abi.opa_heap_ptr_set(this.heap);
        }
      },
    };
  }

  /**
   * The key OPA's parser gives an object for `name` when that key is one of the module's own
   * constant strings (OPA_STRING_INTERNED, in its static data, never freed): a module built with
   * the `constant-keys` rewrite parses a string equal to a constant as the constant
   * (rewrite/string-paths.ts), and a lookup by that constant then finds the key by address.
   * Undefined for any other key.
   */
  private staticKey(name: string): number | undefined {
    this.abi.opa_heap_ptr_set(this.heap);
    try {
      const object = this.parse(`{${JSON.stringify(name)}:null}`, "opa_value_parse");
      const view = new DataView(this.memory.buffer);
      const int = (addr: number) => view.getUint32(addr, true);
      if (object === 0 || view.getUint8(object) !== TYPE.OBJECT || int(object + OBJECT_T.len) !== 1) return undefined;
      for (let bucket = 0; bucket < int(object + OBJECT_T.n); bucket++) {
        const elem = int(int(object + OBJECT_T.buckets) + POINTER_BYTES * bucket);
        if (elem === 0) continue;
        const key = int(elem + OBJECT_ELEM_T.k);
        return this.isStaticKey(key) ? key : undefined;
      }
      return undefined;
    } finally {
      this.abi.opa_heap_ptr_set(this.heap);
    }
  }

  /** How OPA's parser buckets an object with these keys, read from one it parsed. */
  /** Whether a key OPA's parser gave is one of the module's constant strings (static data, never freed). */
  private isStaticKey(key: number): boolean {
    return new DataView(this.memory.buffer).getUint8(key) === TYPE.STRING_INTERNED && key < this.heapBase;
  }

  /** The layouts of objects with these keys, from one parse of a list of them; `onKey` sees each key's address. */
  private objectLayouts(objects: readonly (readonly string[])[], onKey: (name: string, key: number) => void): { buckets: number; chains: number[][] }[] {
    this.abi.opa_heap_ptr_set(this.heap);
    const text = `[${objects.map((names) => `{${names.map((name) => `${JSON.stringify(name)}:null`).join(",")}}`).join(",")}]`;
    const array = this.parse(text, "opa_value_parse");
    const view = new DataView(this.memory.buffer);
    const int = (addr: number) => view.getUint32(addr, true);
    if (array === 0 || view.getUint8(array) !== TYPE.ARRAY || int(array + ARRAY_T.len) !== objects.length) {
      throw new EngineEvaluationError("OPA's parser did not build the list of objects the value form expects");
    }
    const elems = int(array + ARRAY_T.elems);
    return objects.map((names, n) => this.layoutOf(int(elems + ARRAY_ELEM_T.size * n + ARRAY_ELEM_T.v), names, onKey));
  }

  private objectLayout(names: readonly string[]): { buckets: number; chains: number[][] } {
    this.abi.opa_heap_ptr_set(this.heap);
    const object = this.parse(`{${names.map((name) => `${JSON.stringify(name)}:null`).join(",")}}`, "opa_value_parse");
    return this.layoutOf(object, names);
  }

  /** How OPA's parser laid out `object`, parsed from an object with these keys in this order. */
  private layoutOf(object: number, names: readonly string[], onKey?: (name: string, key: number) => void): { buckets: number; chains: number[][] } {
    // OPA's allocator does not align what it gives: fields are read unaligned.
    const view = new DataView(this.memory.buffer);
    const int = (addr: number) => view.getUint32(addr, true);
    if (object === 0 || view.getUint8(object) !== TYPE.OBJECT || int(object + OBJECT_T.len) !== names.length) {
      throw new EngineEvaluationError("OPA's parser did not build the object the value form expects");
    }
    const buckets = int(object + OBJECT_T.n);
    const chains: number[][] = [];
    for (let bucket = 0; bucket < buckets; bucket++) {
      const chain: number[] = [];
      for (let elem = int(int(object + OBJECT_T.buckets) + POINTER_BYTES * bucket); elem !== 0; elem = int(elem + OBJECT_ELEM_T.next)) {
        const key = int(elem + OBJECT_ELEM_T.k);
        const [start, length] = [int(key + STRING_T.v), int(key + STRING_T.len)];
        const position = names.indexOf(this.decode(start, start + length));
        if (position < 0) throw new EngineEvaluationError("OPA's parser gave the object a key it was not given");
        onKey?.(names[position]!, key);
        chain.push(position);
      }
      chains.push(chain);
    }
    return { buckets, chains };
  }

  /** Where inputs written as values begin: the heap, 8-aligned. */
  private get valueInputAt(): number {
    return (this.heap + 7) & ~7;
  }

  /**
   * Puts an input into memory as OPA's values with a writer compiled for this instance's
   * `valueForm`; gives where it ends, or the writer's negative answer. `evaluateValueInput` then
   * evaluates it.
   */
  writeValueInput<T>(write: Writer<T>, value: T): number {
    return write(this.view(), this.valueInputAt, value);
  }

  /** Evaluates the input `writeValueInput` put into memory, ending at `end`; returns the result set. */
  evaluateValueInput(end: number, entrypoint: number): unknown[] {
    return this.results(this.evaluateValueRaw(end, entrypoint));
  }

  /**
   * Evaluates the input `writeValueInput` put into memory as decisions are evaluated, leaving the
   * result in memory unread: for benchmarks, what the policy costs on that path. Returns the result set's address.
   */
  evaluateValueRaw(end: number, entrypoint: number): number {
    this.abi.opa_heap_ptr_set((end + 7) & ~7);
    return this.evalContext(entrypoint, this.valueInputAt);
  }

  /**
   * Whether a value `write` puts into memory is, to OPA, the document `json` its parser builds:
   * compared as OPA's JSON of each, so that the order of keys counts.
   */
  writesAsParsed<T>(write: Writer<T>, value: T, json: string): boolean {
    try {
      const end = this.writeValueInput(write, value);
      if (end < 0) return false;
      this.abi.opa_heap_ptr_set((end + 7) & ~7);
      const written = this.readText(this.abi.opa_json_dump(this.valueInputAt));
      const parsed = this.parse(json, "opa_value_parse");
      return parsed !== 0 && written === this.readText(this.abi.opa_json_dump(parsed));
    } finally {
      this.abi.opa_heap_ptr_set(this.heap);
    }
  }

  /**
   * Puts an input into memory with a compiled writer (after `reserveInput` made room for the
   * largest one) and gives its length, or the writer's negative answer (see input-writer.ts);
   * `evaluateInput` then evaluates it.
   */
  writeInput<T>(write: Writer<T>, value: T): number {
    const end = write(this.view(), this.heap, value);
    return end < 0 ? end : end - this.heap;
  }

  /** Evaluates the input that `writeInput` put into memory; returns the result set, an array of `{result}` objects. */
  evaluateInput(length: number, entrypoint: number): unknown[] {
    return this.results(this.run(entrypoint, this.heap, length));
  }

  /** Evaluates on input given as UTF-8 JSON bytes; returns the result set's JSON text. */
  evaluateBytes(input: Uint8Array, entrypoint: number): string {
    return this.eval(entrypoint, this.heap, this.copyBytes(input));
  }

  /** Evaluates on input given as JSON text (undefined for none); returns the result set's JSON text, as `opa_eval` writes it. */
  evaluateText(input: string | undefined, entrypoint: number): string {
    if (input === undefined) return this.eval(entrypoint, 0, 0);
    return this.eval(entrypoint, this.heap, this.copyText(input));
  }

  /**
   * Copies serialized input into memory and runs `opa_eval` on it, leaving the result unread:
   * the floor that benchmarks compare everything else with. Returns the result's address.
   */
  evaluateRaw(input: Uint8Array, entrypoint: number): number {
    const length = this.copyBytes(input);
    return this.abi.opa_eval(0, entrypoint, this.dataAddr, this.heap, length, this.heap + length, 0);
  }

  /**
   * Copies serialized input into memory and evaluates it as decisions are evaluated (through the
   * ABI's evaluation context, without OPA's JSON), leaving the result in memory unread: for
   * benchmarks, what the policy costs on that path. Returns the result set's address.
   */
  evaluateRawValue(input: Uint8Array, entrypoint: number): number {
    return this.run(entrypoint, this.heap, this.copyBytes(input));
  }

  /** The module's memory in bytes (it grows and never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Evaluates on input given as JSON text (undefined for none): the result set, an array of `{result}` objects. */
  evaluate(input: string | undefined, entrypoint: number): unknown[] {
    if (input === undefined) return this.results(this.run(entrypoint, 0, 0));
    return this.results(this.run(entrypoint, this.heap, this.copyText(input)));
  }

  /** Copies input bytes into memory where inputs go; returns their length. */
  private copyBytes(input: Uint8Array): number {
    this.reserve(this.heap + input.length);
    this.view().set(input, this.heap);
    return input.length;
  }

  /** Copies JSON text into memory where inputs go; returns its length in bytes. */
  private copyText(input: string): number {
    // encodeInto writes at most three bytes per UTF-16 unit.
    this.reserve(this.heap + input.length * 3);
    return encoder.encodeInto(input, this.view().subarray(this.heap)).written;
  }

  private eval(entrypoint: number, input: number, length: number): string {
    const heap = input === 0 ? this.heap : input + length;
    return this.readText(this.abi.opa_eval(0, entrypoint, this.dataAddr, input, length, heap, 0));
  }

  /**
   * What `opa_eval` does before it writes JSON, through the ABI's evaluation context: the heap
   * starts after the input, the input is parsed, the entrypoint runs. Returns the result set's address.
   */
  private run(entrypoint: number, input: number, length: number): number {
    const abi = this.abi;
    abi.opa_heap_ptr_set(input === 0 ? this.heap : input + length);
    return this.evalContext(entrypoint, input === 0 ? 0 : abi.opa_value_parse(input, length));
  }

  /** Evaluates an entrypoint on an input value already in memory (0 for none); returns the result set's address. */
  private evalContext(entrypoint: number, input: number): number {
    const abi = this.abi;
    const ctx = abi.opa_eval_ctx_new();
    if (input !== 0) abi.opa_eval_ctx_set_input(ctx, input);
    abi.opa_eval_ctx_set_data(ctx, this.dataAddr);
    abi.opa_eval_ctx_set_entrypoint(ctx, entrypoint);
    // opa_eval's own words when eval fails.
    if (abi.eval(ctx) !== 0) throw new EngineEvaluationError("policy aborted: eval failed");
    return abi.opa_eval_ctx_get_result(ctx);
  }

  /** The result set at `addr`: read from memory, or through OPA's JSON where the reader cannot. */
  private results(addr: number): unknown[] {
    if (!this.reader) return this.readJson(addr) as unknown[];
    const value = this.reader.read(addr);
    if (value !== FOREIGN) return value as unknown[];
    this.onForeignValue?.();
    return this.readJson(addr) as unknown[];
  }

  /**
   * The value reader, if it reads the probe document exactly as OPA's JSON writer writes it
   * (compared as text, so order counts); run once per instance, before any data is loaded.
   */
  private provenReader(): ValueReader | undefined {
    if (typeof Buffer !== "function") return undefined;
    const reader = new ValueReader(this.memory);
    try {
      const value = this.parse(PROBE, "opa_value_parse");
      if (value === 0) return undefined;
      const read = reader.read(value);
      return read !== FOREIGN && JSON.stringify(read) === JSON.stringify(this.readJson(value)) ? reader : undefined;
    } finally {
      this.abi.opa_heap_ptr_set(this.heapBase);
    }
  }

  private callBuiltin(id: number, args: number[], builtins: Readonly<Record<string, Builtin>>): number {
    const name = Object.keys(this.builtins).find((key) => this.builtins[key] === id) ?? String(id);
    const impl = builtins[name];
    if (!impl) throw new EngineEvaluationError(`the policy called builtin ${name}, which this engine does not provide`);
    const result = impl(...args.map((arg) => this.readJson(arg)));
    return result === undefined ? 0 : this.loadJson(JSON.stringify(result));
  }

  /** A JSON document parsed into the module's heap. */
  private loadJson(text: string): number {
    const value = this.parse(text, "opa_json_parse");
    if (value === 0) throw new EngineEvaluationError("the policy could not parse a JSON document");
    return value;
  }

  /** Text copied into the heap and parsed there by one of OPA's parsers: the value's address, or 0. */
  private parse(text: string, parser: "opa_json_parse" | "opa_value_parse"): number {
    const max = text.length * 3;
    const addr = this.abi.opa_malloc(max);
    const { written } = encoder.encodeInto(text, this.view().subarray(addr, addr + max));
    return this.abi[parser](addr, written);
  }

  private readJson(value: number): unknown {
    return JSON.parse(this.readText(this.abi.opa_json_dump(value)));
  }

  /** The NUL-terminated string at `addr`. */
  private readText(addr: number): string {
    const bytes = this.view();
    const end = bytes.indexOf(0, addr);
    return this.decode(addr, end < 0 ? bytes.length : end);
  }

  /**
   * The memory as bytes; a new view only after the memory grew. Growing detaches the old buffer,
   * whose views then have length 0: a field read, where `memory.buffer` is a call (~50 ns).
   */
  private view(): Uint8Array {
    if (this.bytes.length === 0) {
      this.bytes = new Uint8Array(this.memory.buffer);
      this.decode = decoderFor(this.bytes);
    }
    return this.bytes;
  }

  private reserve(end: number): void {
    const size = this.memory.buffer.byteLength;
    if (end > size) this.memory.grow(Math.ceil((end - size) / PAGE));
  }
}

/**
 * UTF-8 text from a range of memory: through a Buffer view where Node's Buffer exists (it decodes
 * without the intermediate view TextDecoder needs, a measurable share of a small result), else
 * with TextDecoder.
 */
function decoderFor(bytes: Uint8Array): (start: number, end: number) => string {
  if (typeof Buffer === "function") {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return (start, end) => buffer.toString("utf8", start, end);
  }
  return (start, end) => decoder.decode(bytes.subarray(start, end));
}

/** The functions of ABI 1.2 that the host calls, checked for when a module is instantiated. */
const ABI_FUNCTIONS = [
  "opa_eval",
  "opa_eval_ctx_new",
  "opa_eval_ctx_set_input",
  "opa_eval_ctx_set_data",
  "opa_eval_ctx_set_entrypoint",
  "opa_eval_ctx_get_result",
  "eval",
  "opa_malloc",
  "opa_json_parse",
  "opa_value_parse",
  "opa_json_dump",
  "opa_heap_ptr_get",
  "opa_heap_ptr_set",
  "entrypoints",
  "builtins",
] as const satisfies readonly (keyof Abi)[];

/** The exports of ABI 1.2 that the host calls. */
interface Abi {
  opa_eval(reserved: number, entrypoint: number, data: number, input: number, length: number, heap: number, format: number): number;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, value: number): void;
  opa_eval_ctx_set_data(ctx: number, value: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, entrypoint: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
  opa_malloc(size: number): number;
  opa_json_parse(addr: number, length: number): number;
  opa_value_parse(addr: number, length: number): number;
  opa_json_dump(value: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(addr: number): void;
  entrypoints(): number;
  builtins(): number;
}
