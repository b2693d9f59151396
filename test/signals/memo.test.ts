import { describe, expect, it } from "vitest";
import { memoize } from "../../src/signals/memo.js";
import { browserFamily } from "../../src/signals/browser.js";
import { certificateValidity } from "../../src/signals/workload.js";

describe("the bounded memo", () => {
  it("computes a value once per key, null and undefined included", () => {
    const calls: string[] = [];
    const f = memoize((key) => {
      calls.push(key);
      return key === "none" ? undefined : key === "null" ? null : key.length;
    });
    for (const key of ["abc", "none", "null", "abc", "none", "null"]) f(key);
    expect(calls).toEqual(["abc", "none", "null"]);
    expect([f("abc"), f("none"), f("null")]).toEqual([3, undefined, null]);
  });

  it("forgets the oldest key when full, so distinct keys never grow it past its bound", () => {
    const calls: string[] = [];
    const f = memoize((key) => calls.push(key), 2);
    for (const key of ["a", "b", "c", "c", "b", "a"]) f(key);
    // "a" was pushed out by "c", so it is computed again; "b" and "c" were still there.
    expect(calls).toEqual(["a", "b", "c", "a"]);
  });

  it("gives each caller of certificateValidity its own copy", () => {
    const first = certificateValidity("not a certificate");
    first.notAfter = 1;
    expect(certificateValidity("not a certificate")).toEqual({ notBefore: null, notAfter: null });
  });

  it("reads a User-Agent the same the second time", () => {
    const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    expect(browserFamily(chrome)).toBe("Chrome");
    expect(browserFamily(chrome)).toBe("Chrome");
    expect(browserFamily("")).toBeNull();
  });
});
