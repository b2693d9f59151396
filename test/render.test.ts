/**
 * Rendering a verdict: reasons in their fixed order (stops, credential, session, risk, target,
 * exception; then by code), contributions by points, each described from the bundle's catalog —
 * and a code the catalog lacks still rendered, named as undescribed, however often it comes.
 */
import { describe, expect, it } from "vitest";
import type { Verdict } from "../src/contracts/decision.js";
import type { CodeEntry } from "../src/contracts/metadata.js";
import { render } from "../src/decision/render.js";

const codes: Record<string, CodeEntry> = {
  "stop.malicious_ip": { title: "Malicious address", message: "m1", controls: ["DE.CM-01"] },
  "session.too_old": { title: "Too old", message: "m2", controls: ["PR.AA-03"] },
  "risk.elevated": { title: "Elevated", message: "m3", controls: [] },
  "network.vpn": { title: "VPN", message: "m4", controls: [] },
  "network.tor": { title: "Tor", message: "m5", controls: [] },
};

const verdict = (reasons: string[]): Verdict =>
  ({
    outcome: "deny",
    tier: "high",
    risk: { score: 50, level: "high", groups: { network: 50 }, contributions: { "network.vpn": 10, "network.tor": 40 } },
    requirement: { kind: "session", aal: "aal2", phishing_resistant: true, max_age: 900, acr_values: [] },
    satisfied: false,
    reasons,
    obligations: ["notify_security", "log_for_review"],
    exceptions: [],
    policy_version: "1",
  }) as Verdict;

const ctx = { decisionId: "d1", revision: "r1", codes };

describe("render", () => {
  it("orders and describes reasons and contributions from the catalog", () => {
    const decision = render(verdict(["risk.elevated", "session.too_old", "stop.malicious_ip", "risk.elevated"]), { app: "a", action: "read", resource: null }, ctx);
    expect(decision.reasons.map((r) => r.code)).toEqual(["stop.malicious_ip", "session.too_old", "risk.elevated"]);
    expect(decision.reasons[0]).toEqual({ code: "stop.malicious_ip", title: "Malicious address", message: "m1", controls: ["DE.CM-01"] });
    expect(decision.risk.contributions.map((c) => [c.signal, c.group, c.points, c.title])).toEqual([
      ["network.tor", "network", 40, "Tor"],
      ["network.vpn", "network", 10, "VPN"],
    ]);
    expect(decision.obligations).toEqual(["log_for_review", "notify_security"]);
    // Each decision gets its own lists: changing one does not reach the catalog or the next one.
    decision.reasons[0]!.controls.push("X");
    expect(codes["stop.malicious_ip"]!.controls).toEqual(["DE.CM-01"]);
  });

  it("renders a code the catalog lacks, every time, in its group's place", () => {
    for (let i = 0; i < 3; i++) {
      const decision = render(verdict(["stop.unheard_of", "stop.malicious_ip"]), { app: "a", action: "read", resource: null }, ctx);
      expect(decision.reasons.map((r) => [r.code, r.title])).toEqual([
        ["stop.malicious_ip", "Malicious address"],
        ["stop.unheard_of", "stop.unheard_of"],
      ]);
      expect(decision.reasons[1]!.message).toBe("No description for stop.unheard_of in the bundle.");
    }
  });
});
