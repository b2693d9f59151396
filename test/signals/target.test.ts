import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SignalConfigInvalidError, TargetAmbiguousError, TargetUnmappedError } from "../../src/errors.js";
import { everyReading, fastifyPath, fastifyReadings, hasOneStructure, originPath, pathReadings } from "../../src/signals/request-path.js";
import { TargetMap } from "../../src/signals/target.js";

const map = new TargetMap({
  routes: [
    { method: "POST", path: "/admin/users", app: "admin-console", action: "admin" },
    { path: "/admin/*rest", app: "admin-console" },
    { path: "/wiki/:page", app: "wiki" },
    { method: ["GET", "POST"], path: "/ledger/:id/approve", app: "finance-ledger", action: "approve" },
  ],
});

describe("target mapping", () => {
  it("maps method and path to app and action, with the path as resource", () => {
    expect(map.resolve({ method: "POST", path: "/admin/users", route: null })).toEqual({ app: "admin-console", action: "admin", resource: "/admin/users" });
    expect(map.resolve({ method: "GET", path: "/wiki/Home", route: null })).toEqual({ app: "wiki", action: "read", resource: "/wiki/Home" });
    expect(map.resolve({ method: "DELETE", path: "/admin/users/7", route: null }).action).toBe("delete");
    expect(map.resolve({ method: "post", path: "/ledger/42/approve", route: null }).action).toBe("approve");
  });

  it("matches the framework's route pattern exactly, and paths case-insensitively with a trailing slash", () => {
    expect(map.resolve({ method: "GET", path: "/whatever", route: "/wiki/:page" }).app).toBe("wiki");
    expect(map.resolve({ method: "POST", path: "/ADMIN/users/", route: null })).toMatchObject({ app: "admin-console", action: "admin" });
  });

  it("matches HEAD requests on GET rules", () => {
    expect(map.resolve({ method: "HEAD", path: "/ledger/1/approve", route: null }).app).toBe("finance-ledger");
  });

  it("refuses a request no rule maps, unless a fallback app is set", () => {
    expect(() => map.resolve({ method: "GET", path: "/unmapped", route: null })).toThrow(TargetUnmappedError);
    expect(new TargetMap({ fallbackApp: "intranet" }).resolve({ method: "GET", path: "/x", route: null })).toEqual({ app: "intranet", action: "read", resource: "/x" });
  });

  it("takes an explicit target over the mapping", () => {
    expect(map.resolve({ method: "GET", path: "/wiki/a", route: null }, { app: "payroll" })).toEqual({ app: "payroll", action: "read", resource: "/wiki/a" });
  });

  it("survives malformed percent-encoding and very long paths", () => {
    expect(map.resolve({ method: "GET", path: "/wiki/%E0%A4%A", route: null }).app).toBe("wiki");
    expect(map.resolve({ method: "GET", path: `/wiki/${"a".repeat(2000)}`, route: null }).resource).toBeNull();
  });

  it("refuses a broken rule, naming it", () => {
    expect(() => new TargetMap({ routes: [{ path: "/a/:", app: "wiki" }] })).toThrow(SignalConfigInvalidError);
    expect(() => new TargetMap({ routes: [{ path: "/a", app: "" }] })).toThrow(/targets.routes\[0\].app/);
  });
});

describe("target mapping when the path can be read several ways", () => {
  const fallback = new TargetMap({ routes: [{ method: "GET", path: "/payroll/:id", app: "payroll" }, { path: "/*rest", app: "intranet" }], fallbackApp: "intranet" });

  it("takes the rule naming the framework's route over an earlier rule matching the path", () => {
    const map = new TargetMap({ routes: [{ path: "/*rest", app: "intranet" }, { path: "/payroll/:id", app: "payroll" }] });
    expect(map.resolve({ method: "GET", path: "/PAY%72OLL/7", route: "/payroll/:id" }).app).toBe("payroll");
  });

  it("decides only when every reading maps to the same target, and refuses otherwise, naming them", () => {
    expect(fallback.resolve({ method: "GET", path: "/payroll/7", route: null, readings: ["/payroll/7/", "/PAYROLL/7"] }).app).toBe("payroll");
    expect(() => fallback.resolve({ method: "GET", path: "/wiki/../payroll/7", route: null, readings: ["/payroll/7"] })).toThrow(TargetAmbiguousError);
    expect(() => fallback.resolve({ method: "GET", path: "/wiki/../payroll/7", route: null, readings: ["/payroll/7"] })).toThrow(/intranet\/read, payroll\/read/);
  });
});

describe("request paths as routers read them", () => {
  it("takes the path of an absolute-form target, without query or fragment", () => {
    expect(originPath("http://anything/payroll/42?x=1")).toBe("/payroll/42");
    expect(originPath("HTTPS://user@host:443/a#frag")).toBe("/a");
    expect(originPath("http://anything")).toBe("/");
    expect(originPath("/a/b?c")).toBe("/a/b");
  });

  it("reads a path as find-my-way routes it", () => {
    expect(fastifyPath("http://anything/payroll/42")).toBe("/payroll/42");
    expect(fastifyPath("/pay%72oll/42?x")).toBe("/payroll/42");
    expect(fastifyPath("/payroll%2F42")).toBe("/payroll%2F42");
    expect(fastifyPath("/a%25b")).toBe("/a%25b");
    expect(fastifyReadings("/payroll//42;x")).toEqual(["/payroll/42;x", "/payroll//42"]);
  });

  it("reads dot segments, encoded and doubled slashes, backslashes and parameters every way a router may", () => {
    const readingsOf = (path: string) => pathReadings(path);
    expect(readingsOf("/payroll/42")).toEqual(["/payroll/42"]);
    for (const hostile of ["/wiki/../payroll/42", "/wiki/%2e%2e/payroll/42", "/wiki/a%2F..%2F..%2Fpayroll%2F42", "/wiki\\..\\payroll\\42", "//payroll/42", "/pay%72oll/42", "/payroll;x/42", "/wiki/%252e%252e/payroll/42"]) {
      expect(readingsOf(hostile), hostile).toContain("/payroll/42");
      expect(readingsOf(hostile)[0], hostile).toBe(originPath(hostile));
    }
  });

  it("reads a plain path the same with its shortcut as reading by reading", () => {
    // Paths built from the characters that matter to routers, so that plain and hostile ones both come up often.
    const segment = fc.stringMatching(/^(?:[a-zA-Z0-9]|[._~-]|%2[eEfF]|%25|%5[cC]|%41|[;\\:@+ ]|%){0,6}$/);
    const path = fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join("/")}`);
    fc.assert(
      fc.property(path, fc.constantFrom("", "/", "?q=1", "#f"), (p, tail) => {
        expect(pathReadings(p + tail)).toEqual(everyReading(originPath(p + tail)));
      }),
      { numRuns: 20_000 },
    );
    for (const plain of ["/", "/a", "/a/", "/v1.2/file.json", "/a/.b/..c/~d"]) expect(pathReadings(plain)).toEqual(everyReading(plain));
  });

  it("tells a path every router splits alike from one they may split differently", () => {
    for (const plain of ["/wiki/Main_Page", "/wiki/a%20b", "/wiki/caf%C3%A9", "/wiki/x/", "/"]) expect(hasOneStructure(plain), plain).toBe(true);
    for (const hostile of ["/wiki/../x", "/wiki/%2E%2E/x", "/a%2Fb", "/a%5cb", "//a", "/a\\b", "/a;b/c", "/wiki/."]) expect(hasOneStructure(hostile), hostile).toBe(false);
  });
});
