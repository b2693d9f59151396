/**
 * A schema built the first time anything reads it, instead of when its module is evaluated.
 * Importing the SDK evaluates every contract module; building their ~100 zod schemas there cost
 * about as much as the rest of the SDK's own start-up, although a service that decides builds only
 * the bundle's two (the manifest and the tuning data, when it loads one): `decide` checks inputs
 * and verdicts with compiled code (src/input/compile.ts, src/contracts/generated/) and asks zod
 * only to name the problems of a document that fails. docs/performance.md (cold start) has the
 * figures.
 *
 * The value is a Proxy standing for the schema in every operation — property reads and writes,
 * `in`, keys, descriptors, prototype (so `instanceof` and zod's own composition, which read
 * `_zod`, see the schema) — and the schema is built on the first of them. Only identity differs:
 * the Proxy is not the object it stands for. No contract relies on it (none is registered in zod's
 * registries with `.meta()`, which key on identity); test/contracts/lazy-schema.test.ts holds
 * the Proxy to the schema in each of these operations.
 */
export function lazySchema<T extends object>(build: () => T, known?: Partial<T>): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  // The target only has to satisfy the Proxy invariants: a property the schema defines as
  // non-configurable is copied onto it before its descriptor is reported.
  const target = {} as T;
  return new Proxy(target, {
    // A property a module reads when it is evaluated, answered without building the schema
    // (zod itself then loads on first use: scripts/lazy-entry.mjs); the schema's own value is equal.
    get: (_, key) => (known && Object.hasOwn(known, key) ? known[key as keyof T] : Reflect.get(schema(), key)),
    set: (_, key, value) => Reflect.set(schema(), key, value),
    has: (_, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor: (t, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      if (descriptor && !descriptor.configurable && !Object.hasOwn(t, key)) Object.defineProperty(t, key, descriptor);
      return descriptor;
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(schema(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
    setPrototypeOf: (_, proto) => Reflect.setPrototypeOf(schema(), proto),
  });
}
