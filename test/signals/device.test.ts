import { beforeAll, describe, expect, it } from "vitest";
import { KeysUnavailableError } from "../../src/errors.js";
import { PostureVerifier, UNATTESTED, type PostureOptions } from "../../src/signals/device.js";
import { newIssuer, tampered, unsigned, type Issuer } from "../support/keys.js";

const NOW = 1_795_852_800;
let mdm: Issuer;
let other: Issuer;

beforeAll(async () => {
  mdm = await newIssuer("https://mdm.test");
  other = await newIssuer("https://mdm.test");
});

const options = (over: Partial<PostureOptions> = {}): PostureOptions => ({ keys: { jwks: mdm.jwks }, issuer: "https://mdm.test", ...over });

const posture = (over: Record<string, unknown> = {}, issuer = mdm) =>
  issuer.sign({
    sub: "laptop-1",
    user: "alice@example.com",
    iat: NOW - 300,
    managed: true,
    compliant: true,
    disk_encrypted: true,
    edr_running: true,
    os_patch_age_days: 12,
    device_kind: "laptop",
    ...over,
  });

describe("device posture statements", () => {
  it("attests a device from a statement signed by the configured issuer", async () => {
    const verifier = await PostureVerifier.create(options());
    expect(await verifier.assess(await posture(), "alice@example.com", NOW)).toEqual({
      device: { id: "laptop-1", attested: true, managed: true, compliant: true, encrypted: true, edr_running: true, os_patch_age_days: 12, kind: "laptop" },
    });
  });

  it.each([
    ["missing", async () => null, "missing"],
    ["tampered", async () => tampered(await posture({ compliant: false }), (c) => ({ ...c, compliant: true })), "signature"],
    ["signed by another key", () => posture({}, other), "signature"],
    ["unsigned", async () => unsigned({ iss: "https://mdm.test", iat: NOW, exp: NOW + 60, managed: true }), "algorithm"],
    ["expired", () => posture({ iat: NOW - 900, exp: NOW - 600 }), "expired"],
    ["older than the accepted age", () => posture({ iat: NOW - 3 * 86_400, exp: NOW + 60 }), "expired"],
    ["garbage", async () => "%%%", "malformed"],
    ["two statements joined", async () => `${await posture()}, ${await posture()}`, "malformed"],
  ])("leaves the device unattested with every field unknown when the statement is %s", async (_name, make, why) => {
    const verifier = await PostureVerifier.create(options());
    expect(await verifier.assess(await make(), "alice@example.com", NOW)).toEqual({ device: UNATTESTED, unattested: why });
  });

  it("binds the statement to the subject when told to", async () => {
    const verifier = await PostureVerifier.create(options({ subjectClaim: "user" }));
    expect((await verifier.assess(await posture(), "alice@example.com", NOW)).device.attested).toBe(true);
    expect(await verifier.assess(await posture(), "mallory@example.com", NOW)).toEqual({ device: UNATTESTED, unattested: "subject" });
    expect(await verifier.assess(await posture(), null, NOW)).toEqual({ device: UNATTESTED, unattested: "subject" });
  });

  it("leaves a malformed field unknown and keeps the others", async () => {
    const verifier = await PostureVerifier.create(options());
    const { device } = await verifier.assess(await posture({ managed: "yes", os_patch_age_days: -3, device_kind: "toaster" }), null, NOW);
    expect(device).toMatchObject({ attested: true, managed: null, os_patch_age_days: null, kind: null, compliant: true });
  });

  it("maps claims with the caller's own mapping", async () => {
    const verifier = await PostureVerifier.create(options({ map: (c) => ({ id: c.serial, managed: c.enrolled === "yes" }) }));
    const { device } = await verifier.assess(await posture({ serial: "SN-9", enrolled: "yes" }), null, NOW);
    expect(device).toEqual({ ...UNATTESTED, id: "SN-9", attested: true, managed: true });
  });

  it("reports keys it cannot reach as an internal failure, not as an unattested device", async () => {
    const verifier = await PostureVerifier.create(options({ keys: { jwksUrl: "http://127.0.0.1:9/jwks", timeoutMs: 500 } }));
    await expect(verifier.assess(await posture(), null, NOW)).rejects.toThrow(KeysUnavailableError);
  });
});
