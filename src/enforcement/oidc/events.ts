/**
 * What the step-up login reports: each step-up started, completed, retried, not met or refused.
 * Events name the subject, the provider's profile, the acr values asked for and the acr and
 * auth_time received; never a token, a code or a cookie. By default each is a JSON line on
 * stderr (warn for the failures, info otherwise).
 */
import type { ErrorCode } from "../../errors.js";

export type StepUpEventType = "step_up_started" | "step_up_completed" | "step_up_retry" | "step_up_not_met" | "callback_refused";

export interface StepUpEvent {
  readonly type: StepUpEventType;
  readonly profile: string;
  readonly subject: string | null;
  readonly attempt: number;
  readonly required: { readonly acrValues: readonly string[]; readonly maxAge: number | null } | null;
  readonly received: { readonly acr: string | null; readonly authTime: number | null } | null;
  /** The error's code for `step_up_not_met` and `callback_refused`. */
  readonly code: ErrorCode | null;
  readonly reason: string | null;
}

const MESSAGES: Record<StepUpEventType, string> = {
  step_up_started: "stepup step-up started",
  step_up_completed: "stepup step-up completed",
  step_up_retry: "stepup step-up retried with prompt=login",
  step_up_not_met: "stepup step-up not met",
  callback_refused: "stepup identity provider answer refused",
};

/** The default reporter: one JSON line per event on stderr. */
export function logStepUpEvent(event: StepUpEvent): void {
  const level = event.type === "step_up_not_met" || event.type === "callback_refused" ? "warn" : "info";
  process.stderr.write(`${JSON.stringify({ level, msg: MESSAGES[event.type], ...event })}\n`);
}
