/**
 * The edge for the Envoy tests and benchmarks: an identity provider and an MDM with their own
 * keys, a throwaway CA for mTLS peers, and the edge settings both ext_authz servers read. And the
 * derivation of a CheckRequest from a scenario: what Envoy would send for the situation the
 * scenario describes, carrying whatever the edge can carry — a signed access token for the
 * session, a signed posture statement for an attested device, a source address whose zone,
 * reputation and anonymizer the settings' CIDRs and lists give, the mTLS peer (with a
 * certificate valid exactly as the credential) for services and workloads, the target in the
 * route's context extensions. Geography and behaviour cannot be carried.
 */
import type { EnvoySettings } from "../../../src/contracts/envoy.js";
import type { Input } from "../../../src/contracts/input.js";
import { newCertificateAuthority, type CertificateAuthority } from "./certificates.js";
import { newIssuer, type Issuer } from "../keys.js";

export const EDGE_AUDIENCE = "api://stepup-edge";
export const EDGE_REALM = "stepup-edge";

type Jwks = NonNullable<EnvoySettings["session"]>["jwks"];

const ZONES = { corporate: "198.51.100.", known: "192.0.2.", external: "203.0.113." } as const;
const REPUTATIONS = ["good", "neutral", "suspicious", "malicious"] as const;
const ANONYMIZERS = ["none", "vpn", "tor", "proxy", "hosting"] as const;

/** A CheckRequest in a neutral form, turned into each client's encoding. */
export interface EdgeCheck {
  readonly id: string;
  readonly time: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly address: string | null;
  readonly principal: string | null;
  readonly certificate: string | null;
  readonly extensions: Record<string, string>;
}

export interface Edge {
  readonly idp: Issuer;
  readonly mdm: Issuer;
  readonly settings: EnvoySettings;
  /** What Envoy would send for a scenario's input. */
  derive(input: Input, id: string): Promise<EdgeCheck>;
  close(): Promise<void>;
}

export async function makeEdge(): Promise<Edge> {
  const idp = await newIssuer("https://idp.edge.test");
  const mdm = await newIssuer("https://mdm.edge.test");
  const ca: CertificateAuthority = await newCertificateAuthority();
  const settings: EnvoySettings = {
    session: { issuer: idp.issuer, audience: EDGE_AUDIENCE, jwks: idp.jwks as Jwks },
    device: { issuer: mdm.issuer, jwks: mdm.jwks as Jwks, subject_claim: "user" },
    network: {
      corporate: [`${ZONES.corporate}0/24`],
      known: [`${ZONES.known}0/24`],
      lists: [
        ...REPUTATIONS.filter((r) => r !== "neutral").map((reputation) => ({ cidrs: hostsWith((r) => r === reputation), reputation })),
        ...ANONYMIZERS.filter((a) => a !== "none").map((anonymizer) => ({ cidrs: hostsWith((_, a) => a === anonymizer), anonymizer })),
      ],
    },
    workloads: { storage: "workload_api" },
    targets: { routes: [{ path: "/wiki/**", app: "wiki" }, { methods: ["POST"], path: "/admin/users", app: "admin-console", action: "admin" }] },
    realm: EDGE_REALM,
  };
  return {
    idp,
    mdm,
    settings,
    async derive(input, id) {
      const now = input.now;
      const headers: Record<string, string> = { host: "app.edge.test", "x-request-id": id, "user-agent": "stepup-edge-test" };
      let principal: string | null = null;
      let certificate: string | null = null;
      const { subject, session, credential, device } = input;
      if (subject.kind === "human" && session) {
        const claims: Record<string, unknown> = {
          sub: subject.id,
          aud: EDGE_AUDIENCE,
          client_id: "web-app",
          jti: `${id}-token`,
          roles: subject.roles,
          groups: subject.groups,
        };
        if (session.acr !== null) claims.acr = session.acr;
        if (session.amr !== null) claims.amr = session.amr;
        if (session.auth_time !== null) claims.auth_time = session.auth_time;
        headers.authorization = `Bearer ${await idp.sign(claims, { typ: "at+jwt", iat: now - 30, expiresIn: 3600 })}`;
      } else if (subject.kind !== "human") {
        principal = credential?.spiffe_id ?? subject.id;
        const issued = credential?.issued_at ?? now - 600;
        const expires = credential?.expires_at ?? issued + 10 * 365 * 86_400;
        certificate = encodeURIComponent(await ca.issue(principal, issued, expires));
      }
      if (device?.attested) {
        const claims: Record<string, unknown> = { sub: device.id ?? `${id}-device`, user: subject.id };
        const fields = { managed: device.managed, compliant: device.compliant, disk_encrypted: device.encrypted, edr_running: device.edr_running, os_patch_age_days: device.os_patch_age_days, device_kind: device.kind };
        for (const [k, v] of Object.entries(fields)) if (v !== null) claims[k] = v;
        headers["x-device-posture"] = await mdm.sign(claims, { iat: now - 60, expiresIn: 3600 });
      }
      const { network, target } = input;
      return {
        id,
        time: now,
        method: "GET",
        path: target.resource ?? `/${target.app}/${target.action}`,
        headers,
        address: network.ip === null ? null : addressFor(network),
        principal,
        certificate,
        extensions: { stepup_app: target.app, stepup_action: target.action },
      };
    },
    close: () => ca.close(),
  };
}

/** The address whose zone, reputation and anonymizer the settings give as the input's. */
function addressFor(network: Input["network"]): string {
  const zone = ZONES[network.zone ?? "external"];
  return `${zone}${host(REPUTATIONS.indexOf(network.reputation ?? "neutral"), ANONYMIZERS.indexOf(network.anonymizer ?? "none"))}`;
}

function host(reputation: number, anonymizer: number): number {
  return 10 + reputation * 10 + anonymizer;
}

function hostsWith(keep: (reputation: string, anonymizer: string) => boolean): string[] {
  const out: string[] = [];
  for (const zone of Object.values(ZONES)) {
    REPUTATIONS.forEach((r, i) => ANONYMIZERS.forEach((a, j) => keep(r, a) && out.push(`${zone}${host(i, j)}`)));
  }
  return out;
}

/** The CheckRequest as @grpc/proto-loader objects (proto field names). */
export function protoObject(check: EdgeCheck): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  if (check.address) source.address = { socket_address: { address: check.address, port_value: 50_000 } };
  if (check.principal) source.principal = check.principal;
  if (check.certificate) source.certificate = check.certificate;
  return {
    attributes: {
      source,
      destination: { address: { socket_address: { address: "127.0.0.1", port_value: 8443 } } },
      request: {
        time: { seconds: check.time },
        http: { id: check.id, method: check.method, path: check.path, host: check.headers.host, scheme: "https", protocol: "HTTP/1.1", headers: check.headers },
      },
      context_extensions: check.extensions,
    },
  };
}

/** The same CheckRequest in protojson, Envoy's canonical JSON (what the Go client reads). */
export function protoJson(check: EdgeCheck): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  if (check.address) source.address = { socketAddress: { address: check.address, portValue: 50_000 } };
  if (check.principal) source.principal = check.principal;
  if (check.certificate) source.certificate = check.certificate;
  return {
    attributes: {
      source,
      destination: { address: { socketAddress: { address: "127.0.0.1", portValue: 8443 } } },
      request: {
        time: new Date(check.time * 1000).toISOString().replace(".000Z", "Z"),
        http: { id: check.id, method: check.method, path: check.path, host: check.headers.host, scheme: "https", protocol: "HTTP/1.1", headers: check.headers },
      },
      contextExtensions: check.extensions,
    },
  };
}
