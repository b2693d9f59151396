/**
 * Replays a labelled stream in time order through the SDK, as a service would have met it: a
 * fresh behaviour store learns only what the guard lets it learn (a request allowed on a session
 * that met its requirement, a completed step-up; prompts sent), the input is built with the SDK's
 * own familiarity and geography, and the bundle decides. A legitimate person who is asked to step
 * up does so (the session then carries the stronger authentication); an attacker does not. Each
 * candidate (the active bundle, a tuning, another bundle) replays the same stream with a store
 * of its own.
 */
import type { LabelledLine, LoginEvent } from "../contracts/evaluation.js";
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { buildInput } from "../input/builder.js";
import { behaviorOf, featuresOf, geoOf } from "../signals/behavior/derive.js";
import { DEFAULT_FAMILIARITY, familiarityOf, type FamiliarityModel } from "../signals/behavior/familiarity.js";
import { MemoryBehaviorStore } from "../signals/behavior/memory.js";
import type { BehaviorStore } from "../signals/behavior/store.js";
import { UNATTESTED } from "../signals/device.js";
import type { Stepup } from "../stepup.js";
import { Tally } from "./tally.js";

/** One bundle (or tuning of it) to evaluate. */
export interface Candidate {
  readonly name: string;
  readonly stepup: Stepup;
}

export interface EvaluateOptions {
  readonly familiarity?: FamiliarityModel;
  /** A subject is established once it has this many earlier successful logins; 10 by default. */
  readonly established?: number;
  /** Called every so many events with how many were replayed (progress). */
  readonly onProgress?: (done: number) => void;
}

/** What one candidate made of the stream. */
export interface CandidateResult {
  readonly name: string;
  readonly revision: string;
  readonly tally: Tally;
}

/** Replays the stream once per candidate. */
export async function evaluate(lines: readonly LabelledLine[], candidates: readonly Candidate[], options: EvaluateOptions = {}): Promise<CandidateResult[]> {
  const results: CandidateResult[] = [];
  for (const candidate of candidates) results.push(await replay(lines, candidate, options));
  return results;
}

/** A session stepped up by a completed prompt: what it carries from then on. */
type Upgraded = Pick<NonNullable<Input["session"]>, "acr" | "amr" | "auth_time">;

async function replay(lines: readonly LabelledLine[], candidate: Candidate, options: EvaluateOptions): Promise<CandidateResult> {
  const store = new MemoryBehaviorStore();
  const model = options.familiarity ?? DEFAULT_FAMILIARITY;
  const established = options.established ?? 10;
  const tally = new Tally();
  const upgraded = new Map<string, Upgraded>();
  const logins = new Map<string, number>();
  let done = 0;
  for (const line of lines) {
    if ("input" in line) {
      tally.add(line.label, candidate.stepup.decideInput(line.input), true);
    } else {
      const subject = line.subject.id;
      const before = logins.get(subject) ?? 0;
      const { input, learn } = await inputOf(line, store, model, upgraded);
      const decision = candidate.stepup.decideInput(input);
      tally.add(line.label, decision, before >= established);
      await learnFrom(line, decision, input, learn, store, upgraded, logins);
    }
    if (++done % 10_000 === 0) options.onProgress?.(done);
  }
  await store.close();
  return { name: candidate.name, revision: candidate.stepup.revision, tally };
}

async function inputOf(event: LoginEvent, store: BehaviorStore, model: FamiliarityModel, upgraded: ReadonlyMap<string, Upgraded>) {
  const now = event.time;
  const subject = event.subject.id;
  for (let i = 0; i < event.failures_before; i++) await store.recordFailure(subject, now - 1 - i);
  const device = event.device ?? UNATTESTED;
  const features = featuresOf({ now, asn: event.network.asn, country: event.place.country, lat: event.place.lat, lon: event.place.lon, device, browser: event.browser, app: event.target.app });
  const observation = await store.observe(subject, { now, features });
  const session = event.session ? { ...pick(event.session), ...upgraded.get(sessionKey(event)) } : null;
  const place = { country: event.place.country, lat: event.place.lat, lon: event.place.lon, accuracy_km: event.place.accuracy_km, asn: event.network.asn };
  const input = buildInput({
    now,
    subject: { id: subject, kind: "human", roles: event.subject.roles, groups: [], tags: [], privilege_granted_at: event.subject.privilege_granted_at },
    session,
    credential: null,
    device,
    network: { ip: null, zone: event.network.zone, reputation: event.network.reputation, anonymizer: event.network.anonymizer, asn: event.network.asn },
    geo: geoOf(place, observation),
    behavior: behaviorOf(observation),
    familiarity: familiarityOf(observation, features, model),
    target: { app: event.target.app, action: event.target.action, resource: null },
  });
  const learn = { time: now, features, country: place.country, lat: place.lat, lon: place.lon, accuracyKm: place.accuracy_km, anonymized: !["none", null].includes(event.network.anonymizer) };
  return { input, learn };
}

async function learnFrom(
  event: LoginEvent,
  decision: Decision,
  input: Input,
  learn: Parameters<BehaviorStore["recordLogin"]>[1],
  store: BehaviorStore,
  upgraded: Map<string, Upgraded>,
  logins: Map<string, number>,
): Promise<void> {
  const subject = event.subject.id;
  const legitimate = event.label === "legitimate";
  if (decision.outcome === "step_up") {
    await store.recordPrompt(subject, input.now);
    // The person proves what was asked, at the identity provider; an attacker cannot.
    if (!legitimate || !event.session || decision.requirement?.kind !== "session") return;
    upgraded.set(sessionKey(event), proofOf(decision.requirement, input.now));
  } else if (!(decision.outcome === "allow" && decision.satisfied)) {
    return;
  }
  await store.recordLogin(subject, learn);
  if (legitimate) logins.set(subject, (logins.get(subject) ?? 0) + 1);
}

function proofOf(requirement: { aal: string; phishing_resistant: boolean }, now: number): Upgraded {
  if (requirement.phishing_resistant || requirement.aal === "aal3") return { acr: "phrh", amr: ["hwk", "pin"], auth_time: now };
  return { acr: null, amr: ["pwd", "otp"], auth_time: now };
}

function pick(session: NonNullable<LoginEvent["session"]>): Upgraded {
  return { acr: session.acr, amr: session.amr, auth_time: session.auth_time };
}

function sessionKey(event: LoginEvent): string {
  return `${event.subject.id}\u001f${event.session!.id}`;
}
