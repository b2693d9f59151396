/**
 * The step-up login for browser apps, whatever the framework (express.ts and fastify.ts adapt it).
 * On each request it puts the session's token (kept in a sealed cookie) in front of the guard:
 *   - allow goes on; deny is the guard's 403;
 *   - a session step-up sends the browser to the provider (303) with the requirement in the
 *     provider's terms, keeping state, nonce, PKCE verifier, the requirement and where to return
 *     in a second sealed cookie, and records the prompt in the behaviour store;
 *   - the callback completes the request (openid-client), checks the answer against the
 *     requirement and asks the guard again with the new token on the original target. Met: the
 *     new token becomes the session, the step-up is recorded as a login in the behaviour store,
 *     and the browser goes back (303). Not met: one retry with prompt=login; not met again:
 *     `StepUpNotMetError`, reported as an event and answered with 403, never another redirect.
 * A requirement asked for again right after a step-up met it (the policy still unsatisfied) is
 * the same loop, and ends the same way.
 */
import type { Decision } from "../../contracts/decision.js";
import { IdpCallbackError, isStepupError, StepUpNotMetError, type StepupErrors } from "../../errors.js";
import { cookie } from "../../lazy.js";
import type { RequestFacts } from "../../signals/request.js";
import type { TargetOverride } from "../../signals/target.js";
import type { Guard, GuardResult } from "../guard.js";
import { logStepUpEvent, type StepUpEvent, type StepUpEventType } from "./events.js";
import type { Completed, PendingRequest, RelyingParty } from "./relying-party.js";
import { requirementKey, requirementOf, type StepUpRequirement } from "./requirement.js";
import { Sealer } from "./sealed.js";

export interface StepUpLoginOptions {
  readonly guard: Guard;
  readonly rp: RelyingParty;
  /** At least 32 characters, the same on every instance: seals the session and pending-request cookies. */
  readonly cookieSecret: string;
  /** Told about every step-up event; a JSON line on stderr by default. */
  readonly onEvent?: (event: StepUpEvent) => void;
  /** How long a session cookie lives, in seconds (8 h by default); the token's own expiry still applies. */
  readonly sessionTtlSec?: number;
  /** Unix seconds now; `Date.now()` by default. */
  readonly clock?: () => number;
}

/** A request as the login sees it: the collectors' facts, and the path with its query. */
export interface BrowserRequest {
  readonly facts: RequestFacts;
  /** The request target (path and query) as received. */
  readonly url: string;
  readonly target?: TargetOverride;
}

export type BrowserAnswer =
  | { readonly proceed: true; readonly result: GuardResult; readonly setCookies: readonly string[] }
  | {
      readonly proceed: false;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Readonly<Record<string, unknown>> | null;
      readonly setCookies: readonly string[];
    };

interface SessionCookie {
  readonly token: string;
  /** The last step-up completed: its requirement's key and when. */
  readonly done?: { readonly key: string; readonly at: number };
}

interface PendingCookie {
  readonly request: PendingRequest;
  readonly returnTo: string;
  readonly target: { readonly app: string; readonly action: string };
  readonly subject: string | null;
}

const SESSION = "stepup_session";
const PENDING = "stepup_pending";
const PENDING_TTL = 600;
/** A requirement asked for again this soon after a step-up met it is a loop, not a new need. */
const LOOP_WINDOW = 120;
const JSON_HEADERS = { "cache-control": "no-store", "content-type": "application/json; charset=utf-8" };

export class StepUpLogin {
  private readonly sessions: Sealer;
  private readonly pendings: Sealer;
  private readonly callbackPath: string;
  private readonly origin: string;
  private readonly secure: boolean;
  private readonly clock: () => number;
  private readonly report: (event: StepUpEvent) => void;

  constructor(private readonly options: StepUpLoginOptions) {
    this.sessions = new Sealer(options.cookieSecret, "session");
    this.pendings = new Sealer(options.cookieSecret, "pending");
    const redirect = new URL(options.rp.redirectUri);
    this.callbackPath = redirect.pathname;
    this.origin = redirect.origin;
    this.secure = redirect.protocol === "https:";
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.report = options.onEvent ?? logStepUpEvent;
  }

  /** Whether a request is the provider's callback (the redirect URI's path). */
  isCallback(path: string): boolean {
    return path === this.callbackPath;
  }

  /** Handles one request: the callback, or a request to a protected route. Never throws. */
  async handle(req: BrowserRequest): Promise<BrowserAnswer> {
    try {
      return this.isCallback(req.facts.path) ? await this.callback(req) : await this.protect(req);
    } catch (err) {
      const error = isStepupError(err) ? err : new IdpCallbackError(`unexpected failure: ${String(err)}`, { cause: err });
      return refuse(error, []);
    }
  }

  private async protect(req: BrowserRequest): Promise<BrowserAnswer> {
    const now = this.clock();
    const cookies = cookie().parse(header(req.facts.headers.cookie));
    const session = await this.sessions.open<SessionCookie>(cookies[SESSION], now);
    const setCookies: string[] = [];
    let result = await this.options.guard.check(withToken(req.facts, session?.token ?? null), req.target);
    if (result.error?.code === "ERR_TOKEN_INVALID" && session) {
      // An expired or revoked session token: forget it and sign in again.
      setCookies.push(this.clear(SESSION));
      result = await this.options.guard.check(withToken(req.facts, null), req.target);
    }
    if (result.answer.proceed) return { proceed: true, result, setCookies };
    const requirement = result.decision ? requirementOf(result.decision) : null;
    if (!requirement || !result.decision) return { ...httpAnswer(result), setCookies };
    const subject = result.collected?.authenticated ? result.collected.input.subject.id : null;
    if (session?.done && session.done.key === requirementKey(requirement) && now - session.done.at < LOOP_WINDOW) {
      return refuse(this.notMet(requirement, null, subject, 2, "asked again right after a step-up met it"), setCookies);
    }
    return this.redirect(requirement, 1, returnTo(req), targetOf(result.decision), subject, setCookies);
  }

  private async redirect(
    requirement: StepUpRequirement,
    attempt: number,
    back: string,
    target: PendingCookie["target"],
    subject: string | null,
    setCookies: string[],
  ): Promise<BrowserAnswer> {
    const now = this.clock();
    const { url, pending } = await this.options.rp.begin(requirement, now, attempt);
    const sealed = await this.pendings.seal({ request: pending, returnTo: back, target, subject } satisfies PendingCookie, now, PENDING_TTL);
    // The guard recorded the prompt when it answered the step-up (or the recheck that asked again).
    this.emit(attempt === 1 ? "step_up_started" : "step_up_retry", { subject, attempt, requirement });
    return {
      proceed: false,
      status: 303,
      headers: { location: url.href, "cache-control": "no-store" },
      body: null,
      setCookies: [...setCookies, this.set(PENDING, sealed, PENDING_TTL)],
    };
  }

  private async callback(req: BrowserRequest): Promise<BrowserAnswer> {
    const now = this.clock();
    const cookies = cookie().parse(header(req.facts.headers.cookie));
    const pending = await this.pendings.open<PendingCookie>(cookies[PENDING], now);
    // One use: the pending request is forgotten whatever happens next.
    const setCookies = [this.clear(PENDING)];
    if (!pending) return this.refused(new IdpCallbackError("no pending authorization request for this browser"), setCookies);
    let completed: Completed;
    try {
      completed = await this.options.rp.complete(new URL(req.url, this.origin), pending.request, now);
    } catch (err) {
      if (isStepupError(err)) return this.refused(err, setCookies, pending);
      throw err;
    }
    const token = this.options.rp.profile.session_token.browser === "id_token" ? completed.idToken : completed.accessToken;
    const recheck = await this.options.guard.check(withToken(req.facts, token), pending.target);
    const subject = typeof completed.claims.sub === "string" ? completed.claims.sub : pending.subject;
    const received = { acr: completed.assessment.acr, authTime: completed.assessment.authTime };
    const stillStepUp = recheck.decision?.outcome === "step_up";
    if (completed.assessment.met && !stillStepUp && recheck.error?.code !== "ERR_TOKEN_INVALID") {
      await bestEffort("recordLogin", () => this.options.guard.recordLogin(recheck));
      const session: SessionCookie = { token, done: { key: requirementKey(pending.request.requirement), at: now } };
      setCookies.push(this.set(SESSION, await this.sessions.seal(session, now, this.options.sessionTtlSec ?? 8 * 3600)));
      this.emit("step_up_completed", { subject, attempt: pending.request.attempt, requirement: pending.request.requirement, received });
      return { proceed: false, status: 303, headers: { location: pending.returnTo, "cache-control": "no-store" }, body: null, setCookies };
    }
    if (pending.request.attempt < 2) {
      return this.redirect(pending.request.requirement, pending.request.attempt + 1, pending.returnTo, pending.target, subject, setCookies);
    }
    const why = completed.assessment.met ? "the policy still asks for a step-up" : `short on ${completed.assessment.shortfalls.join(" and ")}`;
    return refuse(this.notMet(pending.request.requirement, received, subject, pending.request.attempt, why), setCookies);
  }

  private notMet(requirement: StepUpRequirement, received: StepUpEvent["received"], subject: string | null, attempts: number, reason: string): StepUpNotMetError {
    const got = received ?? { acr: null, authTime: null };
    const error = new StepUpNotMetError(this.options.rp.profile.name, { acrValues: requirement.acrValues, maxAge: requirement.maxAge }, got, attempts);
    this.emit("step_up_not_met", { subject, attempt: attempts, requirement, received, code: error.code, reason });
    return error;
  }

  private refused(error: StepupErrors, setCookies: string[], pending?: PendingCookie): BrowserAnswer {
    this.emit("callback_refused", {
      subject: pending?.subject ?? null,
      attempt: pending?.request.attempt ?? 0,
      requirement: pending?.request.requirement ?? null,
      code: error.code,
      reason: error.message,
    });
    return refuse(error, setCookies);
  }

  private emit(
    type: StepUpEventType,
    e: { subject: string | null; attempt: number; requirement: StepUpRequirement | null; received?: StepUpEvent["received"]; code?: StepUpEvent["code"]; reason?: string },
  ): void {
    this.report({
      type,
      profile: this.options.rp.profile.name,
      subject: e.subject,
      attempt: e.attempt,
      required: e.requirement ? { acrValues: e.requirement.acrValues, maxAge: e.requirement.maxAge } : null,
      received: e.received ?? null,
      code: e.code ?? null,
      reason: e.reason ?? null,
    });
  }

  private set(name: string, value: string, maxAge?: number): string {
    return cookie().serialize(name, value, { httpOnly: true, sameSite: "lax", secure: this.secure, path: "/", ...(maxAge ? { maxAge } : {}) });
  }

  private clear(name: string): string {
    return cookie().serialize(name, "", { httpOnly: true, sameSite: "lax", secure: this.secure, path: "/", maxAge: 0 });
  }
}

/**
 * Writes to the behaviour store do not decide anything: when the store is down the step-up goes
 * on (the guard already fails closed on sensitive targets while it cannot read the store).
 */
async function bestEffort(what: string, write: () => Promise<void> | undefined): Promise<void> {
  try {
    await write();
  } catch (err) {
    const code = isStepupError(err) ? err.code : "ERR_BEHAVIOR_STORE";
    process.stderr.write(`${JSON.stringify({ level: "warn", msg: "stepup behaviour store write failed", what, code })}\n`);
  }
}

/** The facts with the session's token as the bearer credential, and never one the browser sent itself. */
function withToken(facts: RequestFacts, token: string | null): RequestFacts {
  const { authorization: _dropped, ...headers } = facts.headers;
  return { ...facts, headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers };
}

function header(value: string | readonly string[] | undefined): string {
  return typeof value === "string" ? value : (value?.join("; ") ?? "");
}

function targetOf(decision: Decision): PendingCookie["target"] {
  return { app: decision.target.app, action: decision.target.action };
}

/** Where to send the browser back: the page itself for a GET, else the referring page of this site, else the root. */
function returnTo(req: BrowserRequest): string {
  const method = req.facts.method.toUpperCase();
  if (method === "GET" || method === "HEAD") return localPath(req.url);
  const referer = req.facts.headers.referer;
  if (typeof referer === "string") {
    try {
      const url = new URL(referer);
      const host = req.facts.headers.host;
      if (typeof host === "string" && url.host === host) return localPath(`${url.pathname}${url.search}`);
    } catch {
      // not a URL: go to the root
    }
  }
  return "/";
}

/** A path on this site only (never `//host` or a scheme), so the return cannot be an open redirect. */
function localPath(path: string): string {
  return path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/";
}

function httpAnswer(result: GuardResult): BrowserAnswer {
  const { status, headers, body } = result.answer;
  return { proceed: false, status, headers, body, setCookies: [] };
}

function refuse(error: StepupErrors, setCookies: string[]): BrowserAnswer {
  const status = error.code === "ERR_IDP_CALLBACK" ? 400 : error.code === "ERR_IDP_DISCOVERY" ? 502 : 403;
  const body = error.code === "ERR_STEP_UP_NOT_MET" ? "step_up_not_met" : error.code === "ERR_IDP_CALLBACK" ? "invalid_callback" : "step_up_unavailable";
  return { proceed: false, status, headers: JSON_HEADERS, body: { error: body, code: error.code, error_description: error.message }, setCookies };
}
