/**
 * The part of the WebAssembly JavaScript API that the engine uses. Node provides it at run time;
 * its type declarations live in TypeScript's DOM library, which a Node package should not pull in.
 */
declare namespace WebAssembly {
  interface Module {}
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  interface Global {
    value: unknown;
  }
  type Imports = Record<string, Record<string, unknown>>;

  var Module: { new (bytes: BufferSource): Module; prototype: Module };
  var Instance: { new (module: Module, imports?: Imports): Instance; prototype: Instance };
  var Memory: { new (descriptor: { initial: number; maximum?: number }): Memory; prototype: Memory };
  function compile(bytes: BufferSource): Promise<Module>;
}

type BufferSource = ArrayBufferView | ArrayBuffer;
