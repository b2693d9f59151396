/**
 * A real OpenID Provider for the identity-provider suites: panva's certified oidc-provider on a
 * free loopback port, with acr_values_supported set to the policy's own values (a generic
 * provider configured as docs/identity-providers.md says), the claims parameter, PKCE, RFC 9068
 * access tokens for one API, and its interaction pages: a password form, then a one-time code form
 * when level 2 is asked for (acr_values or an essential acr claim), the code checked against the
 * account's TOTP secret. oidc-provider leaves those pages to the application that embeds it; these
 * are plain HTML forms a browser submits.
 *
 * `ignoresAcr: true` makes a provider that pays no attention to the acr asked for: the claims
 * parameter off and a password-only login whatever is requested, so it answers a step-up with the
 * old level (the loop the relying party must detect).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";
import * as OTPAuth from "otpauth";

export const AAL1 = "http://idmanagement.gov/ns/assurance/aal/1";
export const AAL2 = "http://idmanagement.gov/ns/assurance/aal/2";
export const PAYROLL_API = "urn:stepup:payroll-api";

export interface Account {
  readonly id: string;
  readonly password: string;
  /** The TOTP secret, as text (its bytes are the key). */
  readonly totpSecret: string;
}

export const ACCOUNTS: readonly Account[] = [
  { id: "carol@example.com", password: "carol-password-1", totpSecret: "carol-totp-secret-2026" },
  { id: "dave@example.com", password: "dave-password-1", totpSecret: "dave-totp-secret-2026" },
];

export interface OidcProviderOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly ignoresAcr?: boolean;
  /** Add acr, amr and auth_time to the API's access tokens (extraTokenClaims); RFC 9068 tokens carry none by default. */
  readonly accessTokenSessionClaims?: boolean;
}

export interface RunningProvider {
  readonly issuer: string;
  /** Every interaction page served, by kind, in order. */
  readonly pages: string[];
  stop(): Promise<void>;
}

export function totp(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromUTF8(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate();
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<RunningProvider> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "op-test-1", use: "sig", alg: "RS256" };
  const ignores = options.ignoresAcr === true;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [...options.redirectUris],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
        require_auth_time: true,
      },
    ],
    jwks: { keys: [jwk] },
    acrValues: [AAL1, AAL2],
    // The session's claims released with the openid scope: oidc-provider otherwise puts acr and
    // amr in an ID token only when the claims parameter asks for them.
    claims: { openid: ["sub", "acr", "amr", "auth_time"], profile: ["name"] },
    cookies: { keys: ["stepup-oidc-provider-test-cookie-key"] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: !ignores },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => PAYROLL_API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: "payroll", audience: PAYROLL_API, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
      },
    },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, name: id.split("@")[0] }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      // A first-party client: everything it asks for is granted without a consent page.
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope("openid profile");
      grant.addResourceScope(PAYROLL_API, "payroll");
      await grant.save();
      return grant;
    },
    async extraTokenClaims(ctx: KoaContextWithOIDC, token) {
      if (!options.accessTokenSessionClaims || token.kind !== "AccessToken") return undefined;
      const code = ctx.oidc.entities.AuthorizationCode;
      return code ? { acr: code.acr, amr: code.amr, auth_time: code.authTime } : undefined;
    },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });

  const pages: string[] = [];
  const passwordChecked = new Map<string, string>();
  const callback = provider.callback();

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    const m = /^\/interaction\/([\w-]+)(?:\/(login|otp))?$/.exec(url.pathname);
    if (!m) return void callback(req, res);
    interaction(req, res, m[1]!, m[2] as "login" | "otp" | undefined).catch((err: Error) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(`interaction failed: ${err.message}`);
    });
  });

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, step: "login" | "otp" | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error("interaction mismatch");
    const wantsLevel2 = !ignores && asksFor(details.params, AAL2);
    const reLogin = String(details.params.prompt ?? "").split(" ").includes("login") || details.prompt.reasons.includes("max_age");
    const known = details.session?.accountId;
    if (step === undefined) {
      // A session without a reason to ask for the password again only needs the second factor.
      if (known && !reLogin && wantsLevel2) {
        passwordChecked.set(uid, known);
        return page(res, "otp", uid);
      }
      return page(res, "login", uid);
    }
    const form = new URLSearchParams(await body(req));
    if (step === "login") {
      const account = ACCOUNTS.find((a) => a.id === form.get("username") && a.password === form.get("password"));
      if (!account) return page(res, "login", uid, "Invalid username or password.");
      if (!wantsLevel2) return finish(req, res, account.id, AAL1, ["pwd"]);
      passwordChecked.set(uid, account.id);
      return page(res, "otp", uid);
    }
    const accountId = passwordChecked.get(uid);
    const account = ACCOUNTS.find((a) => a.id === accountId);
    if (!account) return page(res, "login", uid);
    const code = form.get("otp") ?? "";
    const valid = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromUTF8(account.totpSecret), digits: 6, period: 30, algorithm: "SHA1" }).validate({ token: code, window: 1 });
    if (valid === null) return page(res, "otp", uid, "Invalid code.");
    passwordChecked.delete(uid);
    return finish(req, res, account.id, AAL2, ["pwd", "otp"]);
  }

  async function finish(req: IncomingMessage, res: ServerResponse, accountId: string, acr: string, amr: string[]): Promise<void> {
    await provider.interactionFinished(req, res, { login: { accountId, acr, amr } }, { mergeWithLastSubmission: false });
  }

  function page(res: ServerResponse, kind: "login" | "otp", uid: string, error = ""): void {
    pages.push(kind);
    const fields =
      kind === "login"
        ? `<input name="username" autocomplete="username"><input name="password" type="password">`
        : `<input name="otp" inputmode="numeric" autocomplete="one-time-code">`;
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
      .end(`<!doctype html><title>${kind}</title><p>${error}</p><form id="${kind}" method="post" action="/interaction/${uid}/${kind}">${fields}<button>Continue</button></form>`);
  }

  return {
    issuer,
    pages,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Whether an authorization request asks for `acr`, through acr_values or the claims parameter. */
function asksFor(params: Record<string, unknown>, acr: string): boolean {
  if (typeof params.acr_values === "string" && params.acr_values.split(" ").includes(acr)) return true;
  if (typeof params.claims !== "string") return false;
  try {
    const claims = JSON.parse(params.claims) as { id_token?: { acr?: { value?: string; values?: string[] } } };
    const asked = claims.id_token?.acr;
    return asked?.value === acr || (asked?.values ?? []).includes(acr);
  } catch {
    return false;
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      data += chunk;
      if (data.length > 65_536) req.destroy(new Error("form too large"));
    });
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
