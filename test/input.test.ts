import { describe, expect, it } from "vitest";
import { parseInput, parseInputText } from "../src/input/validate.js";
import { InputInvalidError, InputNotJsonError } from "../src/errors.js";

const minimal = {
  now: 1795852800,
  subject: { id: "alice", kind: "human" },
  target: { app: "wiki", action: "read" },
};

function issuesOf(raw: unknown) {
  try {
    parseInput(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InputInvalidError);
    return (err as InputInvalidError).issues;
  }
  throw new Error("expected the input to be rejected");
}

describe("input validation", () => {
  it("fills every unknown with null so the policy always sees the same shape", () => {
    const input = parseInput(minimal);
    expect(input.session).toBeNull();
    expect(input.device).toBeNull();
    expect(input.network).toEqual({ ip: null, zone: null, reputation: null, anonymizer: null, asn: null });
    expect(input.subject.roles).toEqual([]);
    expect(input.target.resource).toBeNull();
    expect(input.version).toBe(1);
  });

  it("fills unknown device fields with null and leaves the device unattested", () => {
    const input = parseInput({ ...minimal, device: { id: "d1" } });
    expect(input.device).toEqual({
      id: "d1",
      attested: false,
      managed: null,
      compliant: null,
      encrypted: null,
      edr_running: null,
      os_patch_age_days: null,
      kind: null,
    });
  });

  it("names a missing field", () => {
    const { now: _, ...noNow } = minimal;
    expect(issuesOf(noNow)).toEqual([{ path: "now", message: "is required (number)" }]);
  });

  it("names a field of the wrong type", () => {
    const issues = issuesOf({ ...minimal, session: { acr: "phr", auth_time: "yesterday" } });
    expect(issues.map((i) => i.path)).toEqual(["session.auth_time"]);
    expect(issues[0]?.message).toMatch(/expected number, received string/);
  });

  it("rejects unknown fields rather than ignoring them", () => {
    expect(issuesOf({ ...minimal, device: { attested: true, trusted: true } })).toEqual([
      { path: "device.trusted", message: "unknown field" },
    ]);
  });

  it("rejects an address that is not an IP", () => {
    expect(issuesOf({ ...minimal, network: { ip: "999.1.1.1" } }).map((i) => i.path)).toEqual(["network.ip"]);
  });

  it("rejects values outside the contract's enums and ranges", () => {
    const issues = issuesOf({
      ...minimal,
      subject: { id: "x", kind: "robot" },
      device: { os_patch_age_days: -1 },
      geo: { country: "france" },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(["device.os_patch_age_days", "geo.country", "subject.kind"]);
  });

  it("indexes array items in the path", () => {
    expect(issuesOf({ ...minimal, session: { amr: ["pwd", 7] } }).map((i) => i.path)).toEqual(["session.amr[1]"]);
  });

  it("says when the text is not JSON at all", () => {
    expect(() => parseInputText("{ not json")).toThrow(InputNotJsonError);
    expect(() => parseInputText("{ not json")).toThrow(/not JSON/);
  });

  it("rejects a JSON value that is not an object", () => {
    expect(() => parseInputText("[]")).toThrow(InputInvalidError);
    expect(() => parseInputText("null")).toThrow(InputInvalidError);
  });
});
