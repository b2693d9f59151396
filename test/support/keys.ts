/** Signing keys for test identity providers and posture services, and helpers to sign with them. */
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";

export interface Issuer {
  readonly issuer: string;
  readonly jwks: { keys: JWK[] };
  sign(claims: JWTPayload, header?: { typ?: string; expiresIn?: number; iat?: number }): Promise<string>;
}

/** A new issuer with its own ES256 key pair. */
export async function newIssuer(issuer: string, kid = "k1"): Promise<Issuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return {
    issuer,
    jwks: { keys: [jwk] },
    async sign(claims, header = {}) {
      const iat = header.iat ?? (claims.iat as number);
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid, ...(header.typ ? { typ: header.typ } : {}) })
        .setIssuer((claims.iss as string | undefined) ?? issuer)
        .setIssuedAt(iat);
      if (claims.exp === undefined) jwt.setExpirationTime(iat + (header.expiresIn ?? 3600));
      return jwt.sign(privateKey);
    },
  };
}

/** An unsigned token (alg none), as an attacker would send one. */
export function unsigned(claims: JWTPayload, typ = "JWT"): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ })}.${b64(claims)}.`;
}

/** The same token with its payload swapped for another, signature kept (a tampered token). */
export function tampered(token: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as JWTPayload;
  return `${header}.${Buffer.from(JSON.stringify(change(claims))).toString("base64url")}.${signature}`;
}
