/**
 * The workload signal: the mTLS peer a trusted front (Envoy) verified. A SPIFFE ID as principal is
 * a workload presenting an X.509 SVID; any other principal is a service with an mTLS certificate.
 * The credential's lifetime comes from the peer certificate, when the front forwarded it; where
 * the key lives cannot be seen from a request, so it is whatever the deployment declares
 * (`storage`, e.g. `workload_api` for SPIRE), unknown otherwise. Used only when the request
 * carried no bearer token, exactly as the Envoy entrypoint in rego/stepup/envoy/ does.
 */
import { X509Certificate } from "node:crypto";
import type * as z from "zod";
import type { CredentialStorage } from "../contracts/input.js";
import { memoize } from "./memo.js";
import type { PeerIdentity } from "./request.js";
import type { VerifiedCaller } from "./session.js";

export interface WorkloadOptions {
  /** Where the workloads behind the front keep their keys (`workload_api` for SPIRE); unknown when absent. */
  readonly storage?: z.output<typeof CredentialStorage> | null;
}

const SPIFFE_ID = /^spiffe:\/\/[^/]+(\/.*)?$/;
const MAX_SECONDS = 253_402_300_799;

/** The caller a verified mTLS peer stands for, or null when there is none (or it is unusable). */
export function peerCaller(identity: PeerIdentity | null | undefined, options: WorkloadOptions = {}): VerifiedCaller | null {
  const principal = identity?.principal;
  if (typeof principal !== "string" || principal.length === 0 || principal.length > 256) return null;
  const spiffe = SPIFFE_ID.test(principal);
  const validity = certificateValidity(identity?.certificate ?? null);
  return {
    subject: { id: principal, kind: spiffe ? "workload" : "service", roles: [], groups: [], tags: [], privilege_granted_at: null },
    session: null,
    credential: {
      type: spiffe ? "spiffe_svid" : "mtls",
      issued_at: validity.notBefore,
      expires_at: validity.notAfter,
      storage: options.storage ?? null,
      spiffe_id: spiffe ? principal : null,
    },
  };
}

type Validity = { notBefore: number | null; notAfter: number | null };

// A workload presents the same certificate on every request until it rotates it.
const validityOf = memoize((pem): Readonly<Validity> => {
  try {
    const cert = new X509Certificate(pem);
    return { notBefore: seconds(cert.validFrom), notAfter: seconds(cert.validTo) };
  } catch {
    return { notBefore: null, notAfter: null };
  }
}, 256);

/** The validity period of a PEM certificate in Unix seconds; nulls when it cannot be read. */
export function certificateValidity(pem: string | null): { notBefore: number | null; notAfter: number | null } {
  // A copy: the caller may change what it gets.
  return pem ? { ...validityOf(pem) } : { notBefore: null, notAfter: null };
}

function seconds(text: string): number | null {
  const ms = Date.parse(text);
  const s = Math.floor(ms / 1000);
  return Number.isFinite(ms) && s >= 0 && s <= MAX_SECONDS ? s : null;
}
