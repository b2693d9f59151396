import { describe, expect, it } from "vitest";
import { SignalConfigInvalidError, TargetUnmappedError } from "../../src/errors.js";
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
