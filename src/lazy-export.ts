/**
 * A class or function of the package's entry point whose module is loaded the first time it is
 * used: the stand-in the built entry exports for each integration (scripts/lazy-entry.mjs), so
 * that importing the SDK compiles and runs only what deciding needs. The stand-in is a Proxy that
 * is the class or function in every use — calling it, `new`, static members, `instanceof`,
 * `extends`, its name, keys and descriptors — and loads it on the first of them. Only identity
 * differs: the stand-in is not the object it stands for, so a static method called through it runs
 * with the stand-in as `this` (which reaches the same members, but not a static `#private` one;
 * stepup's classes have none). test/lazy-export.test.ts holds it to the class in each of these.
 */
export function lazyExport<T extends object>(name: string, load: () => T): T {
  let loaded: T | undefined;
  const real = (): T => (loaded ??= load());
  // A bound function: callable and constructible, with no own property that cannot be
  // configured (an ordinary function's `prototype`), which the Proxy invariants would then bind
  // to the target's instead of the real one's.
  const target = function () {}.bind(null) as unknown as T;
  Object.defineProperty(target, "name", { value: name });
  const self = (receiver: unknown) => (receiver === proxy ? real() : receiver);
  const proxy: T = new Proxy(target, {
    apply: (_, thisArg, args) => Reflect.apply(real() as (...args: unknown[]) => unknown, thisArg, args),
    construct: (_, args, newTarget) => Reflect.construct(real() as new (...args: unknown[]) => object, args, self(newTarget) as new (...args: unknown[]) => object),
    get: (_, key, receiver) => Reflect.get(real(), key, self(receiver)),
    set: (_, key, value, receiver) => Reflect.set(real(), key, value, self(receiver)),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (t, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A property that cannot be configured must be the target's too before it is reported.
      if (descriptor && !descriptor.configurable) Object.defineProperty(t, key, descriptor);
      return descriptor;
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    setPrototypeOf: (_, prototype) => Reflect.setPrototypeOf(real(), prototype),
  });
  return proxy;
}
