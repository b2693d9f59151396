/**
 * The stand-ins the built entry exports for the integrations (src/lazy-export.ts,
 * scripts/lazy-entry.mjs) are the classes and functions they stand for in every use, and load
 * them only on the first.
 */
import { describe, expect, it } from "vitest";
import { lazyExport } from "../src/lazy-export.js";

class Base {
  static made = 0;
  static #secret = "kept";
  readonly label: string;
  constructor(label: string) {
    this.label = label;
    Base.made++;
  }
  static create(label: string): Base {
    return new Base(label);
  }
  static get secret(): string {
    return Base.#secret;
  }
  hello(): string {
    return `hello ${this.label}`;
  }
}

async function later(n: number): Promise<number> {
  return n + 1;
}

function standIn<T extends object>(name: string, value: T): { value: T; loads: () => number } {
  let loads = 0;
  return {
    value: lazyExport(name, () => {
      loads++;
      return value;
    }),
    loads: () => loads,
  };
}

describe("a lazily loaded export", () => {
  it("loads what it stands for on first use, once", () => {
    const { value: Lazy, loads } = standIn("Base", Base);
    expect(loads()).toBe(0);
    expect(new Lazy("a").hello()).toBe("hello a");
    expect(Lazy.create("b").label).toBe("b");
    expect(loads()).toBe(1);
  });

  it("is the class in `new`, static members, instanceof and its name and length", () => {
    const { value: Lazy } = standIn("Base", Base);
    const made = new Lazy("x");
    expect(made).toBeInstanceOf(Base);
    expect(made).toBeInstanceOf(Lazy);
    expect(new Base("y")).toBeInstanceOf(Lazy);
    expect(Object.getPrototypeOf(made)).toBe(Base.prototype);
    expect(made.constructor).toBe(Base);
    expect(Lazy.secret).toBe("kept");
    expect(Lazy.create("z")).toBeInstanceOf(Base);
    expect([Lazy.name, Lazy.length, typeof Lazy]).toEqual(["Base", 1, "function"]);
    expect(Lazy.prototype).toBe(Base.prototype);
    const before = Base.made;
    Lazy.made += 10;
    expect(Base.made).toBe(before + 10);
  });

  it("can be extended: super, inherited statics and instanceof", () => {
    const { value: Lazy } = standIn("Base", Base);
    class Derived extends Lazy {
      constructor() {
        super("derived");
      }
      override hello(): string {
        return `${super.hello()}!`;
      }
    }
    const d = new Derived();
    expect(d.hello()).toBe("hello derived!");
    expect(d).toBeInstanceOf(Base);
    expect(d).toBeInstanceOf(Derived);
    expect(Object.getPrototypeOf(d)).toBe(Derived.prototype);
    expect(Derived.secret).toBe("kept");
    expect(Derived.create("from derived")).toBeInstanceOf(Base);
  });

  it("is the function in calls, `this`, thrown errors and `new` on what is not a constructor", async () => {
    const { value: lazyLater } = standIn("later", later);
    await expect(lazyLater(1)).resolves.toBe(2);
    const { value: method } = standIn("method", function (this: { n: number }) {
      return this.n;
    });
    expect(method.call({ n: 7 })).toBe(7);
    const { value: fails } = standIn("fails", (): never => {
      throw new RangeError("no");
    });
    expect(() => fails()).toThrow(RangeError);
    expect(() => new (lazyLater as unknown as new () => object)()).toThrow(TypeError);
  });

  it("reports the keys and descriptors of what it stands for", () => {
    const { value: Lazy } = standIn("Base", Base);
    expect(Reflect.ownKeys(Lazy)).toEqual(Reflect.ownKeys(Base));
    expect(Object.getOwnPropertyDescriptor(Lazy, "prototype")).toEqual(Object.getOwnPropertyDescriptor(Base, "prototype"));
    expect(Object.getOwnPropertyDescriptor(Lazy, "create")).toEqual(Object.getOwnPropertyDescriptor(Base, "create"));
    expect("create" in Lazy).toBe(true);
    // An async function has no prototype: none is reported.
    const { value: lazyLater } = standIn("later", later);
    expect(Reflect.ownKeys(lazyLater)).toEqual(Reflect.ownKeys(later));
    expect(Object.keys(lazyLater)).toEqual([]);
  });

  it("passes a load failure to the caller, and loads again on the next use", () => {
    let attempts = 0;
    const Lazy = lazyExport("Base", () => {
      if (++attempts === 1) throw new Error("not there");
      return Base;
    });
    expect(() => new Lazy("a")).toThrow("not there");
    expect(new Lazy("b").label).toBe("b");
  });
});
