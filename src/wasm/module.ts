/**
 * Compiling a bundle's policy module. V8 compiles WebAssembly on background threads, so loading
 * a bundle starts it as soon as the module's bytes are known (src/bundle/load.ts) and checks the
 * manifest and the tuning data while it runs; the engine then takes the compilation already under
 * way for those bytes instead of starting its own. Compiling runs none of the module's code.
 */
const started = new WeakMap<Uint8Array, Promise<WebAssembly.Module>>();

/** Starts compiling these bytes, unless that is already under way. */
export function startCompiling(bytes: Uint8Array): void {
  if (started.has(bytes)) return;
  const compiling = WebAssembly.compile(bytes);
  // Whoever takes it sees a failure; a bundle refused before that leaves nobody to see it.
  compiling.catch(() => {});
  started.set(bytes, compiling);
}

/** The module of these bytes: the compilation started for them, or a new one. */
export function compileModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  const compiling = started.get(bytes);
  if (!compiling) return WebAssembly.compile(bytes);
  // Once taken, the engine holds the module; the bytes need not.
  started.delete(bytes);
  return compiling;
}
