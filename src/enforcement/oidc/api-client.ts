/**
 * The API client's side of RFC 9470: call a bearer API (openid-client's fetchProtectedResource,
 * which parses the WWW-Authenticate challenges); when it answers `insufficient_user_authentication`
 * with `acr_values` and `max_age` (or Entra ID's `insufficient_claims` with a claims request), get
 * a token meeting that from the provider and call once more. The token comes from an
 * authorization request the client's user completes (`authorize`: open the URL in a browser and
 * hand back the URL the provider redirected to, as a native app with a loopback redirect does).
 * A token that does not meet the requirement is asked for once more with prompt=login; a retried
 * call that is challenged again is `StepUpNotMetError`, never a third call.
 */
import { StepUpNotMetError } from "../../errors.js";
import { openidClient } from "../../lazy.js";
import { logStepUpEvent, type StepUpEvent } from "./events.js";
import type { Completed, RelyingParty } from "./relying-party.js";
import type { StepUpRequirement } from "./requirement.js";

export interface StepUpFetchOptions {
  /** The client (usually public, with a loopback redirect URI) that asks the provider for tokens. */
  readonly rp: RelyingParty;
  /** Has the user complete an authorization request: opens `url`, resolves with the redirect URI the provider sent the browser to. */
  readonly authorize: (url: URL) => Promise<URL>;
  /** The access token to start with; without one, call `signIn` first. */
  readonly accessToken?: string;
  readonly onEvent?: (event: StepUpEvent) => void;
  readonly clock?: () => number;
}

export interface StepUpFetchInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** The requirement an RFC 9470 (or Entra ID claims) challenge states; null for any other answer. */
export function challengeRequirement(challenges: readonly { readonly scheme: string; readonly parameters: object }[]): StepUpRequirement | null {
  for (const { scheme, parameters } of challenges) {
    const p = parameters as Readonly<Record<string, string | undefined>>;
    if (scheme.toLowerCase() !== "bearer") continue;
    if (p.error === "insufficient_claims" && typeof p.claims === "string") {
      const claims = Buffer.from(p.claims, "base64").toString("utf8");
      try {
        const request: unknown = JSON.parse(claims);
        return request !== null && typeof request === "object" && !Array.isArray(request) ? { acrValues: [], maxAge: null, claims } : null;
      } catch {
        return null; // not a claims request: nothing to ask the provider for
      }
    }
    // RFC 9470 section 3; without a token RFC 6750 sends no error code, but the parameters still say what to ask for.
    if (p.error !== undefined && p.error !== "insufficient_user_authentication") continue;
    if (p.acr_values === undefined && p.max_age === undefined) continue;
    const maxAge = p.max_age === undefined ? null : Number(p.max_age);
    if (maxAge !== null && (!Number.isInteger(maxAge) || maxAge < 0)) return null;
    return { acrValues: (p.acr_values ?? "").split(" ").filter(Boolean), maxAge };
  }
  return null;
}

export class StepUpFetch {
  private token: string | undefined;
  private readonly clock: () => number;
  private readonly report: (event: StepUpEvent) => void;

  constructor(private readonly options: StepUpFetchOptions) {
    this.token = options.accessToken;
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.report = options.onEvent ?? logStepUpEvent;
  }

  /** The access token now held (the last one obtained). */
  get accessToken(): string | undefined {
    return this.token;
  }

  /** Signs the user in (an authorization request for `requirement`, any level by default) and keeps the access token. */
  async signIn(requirement: StepUpRequirement = { acrValues: [], maxAge: null }): Promise<Completed> {
    return this.obtain(requirement);
  }

  /**
   * Calls the API, answering one step-up challenge.
   * @example
   * const api = new StepUpFetch({ rp, authorize: openBrowserAndWaitForRedirect, accessToken });
   * const res = await api.fetch("https://payroll.example/api/payslips/7", { method: "POST", body });
   */
  async fetch(url: string, init: StepUpFetchInit = {}): Promise<Response> {
    const first = await this.call(url, init);
    if (first.requirement === null) return first.response;
    const completed = await this.obtain(first.requirement);
    const second = await this.call(url, init);
    if (second.requirement === null) {
      this.emit("step_up_completed", first.requirement, completed, null);
      return second.response;
    }
    throw this.notMet(first.requirement, completed, "the API challenged the new token again");
  }

  /** A token meeting the requirement: one authorization request, and one more with prompt=login if the first fell short. */
  private async obtain(requirement: StepUpRequirement): Promise<Completed> {
    let completed: Completed | null = null;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { url, pending } = await this.options.rp.begin(requirement, this.clock(), attempt);
      this.emit(attempt === 1 ? "step_up_started" : "step_up_retry", requirement, completed, null, attempt);
      const landed = await this.options.authorize(url);
      completed = await this.options.rp.complete(landed, pending, this.clock());
      this.token = completed.accessToken;
      if (completed.assessment.met) return completed;
    }
    throw this.notMet(requirement, completed, `short on ${completed!.assessment.shortfalls.join(" and ")}`);
  }

  private async call(url: string, init: StepUpFetchInit): Promise<{ response: Response; requirement: StepUpRequirement | null }> {
    const client = await openidClient();
    const target = new URL(url);
    if (this.token === undefined) throw new TypeError("no access token: call signIn() first or pass accessToken");
    try {
      const response = await client.fetchProtectedResource(
        this.options.rp.configuration,
        this.token,
        target,
        init.method ?? "GET",
        init.body ?? null,
        new Headers(init.headers),
      );
      return { response, requirement: null };
    } catch (err) {
      if (err instanceof client.WWWAuthenticateChallengeError) {
        return { response: err.response as Response, requirement: challengeRequirement(err.cause) };
      }
      throw err;
    }
  }

  private notMet(requirement: StepUpRequirement, completed: Completed | null, reason: string): StepUpNotMetError {
    const received = { acr: completed?.assessment.acr ?? null, authTime: completed?.assessment.authTime ?? null };
    const error = new StepUpNotMetError(this.options.rp.profile.name, { acrValues: requirement.acrValues, maxAge: requirement.maxAge }, received, 2);
    this.emit("step_up_not_met", requirement, completed, error.code, 2, reason);
    return error;
  }

  private emit(type: StepUpEvent["type"], requirement: StepUpRequirement, completed: Completed | null, code: StepUpEvent["code"], attempt = 1, reason: string | null = null): void {
    this.report({
      type,
      profile: this.options.rp.profile.name,
      subject: typeof completed?.claims.sub === "string" ? completed.claims.sub : null,
      attempt,
      required: { acrValues: requirement.acrValues, maxAge: requirement.maxAge },
      received: completed ? { acr: completed.assessment.acr, authTime: completed.assessment.authTime } : null,
      code,
      reason,
    });
  }
}
