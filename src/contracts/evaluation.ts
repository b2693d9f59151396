/**
 * A labelled stream for `stepup evaluate`: what a security team's incident data looks like once
 * each access is labelled legitimate or with the attack behind it. A line is either a login event
 * (the facts of one access, which the evaluation turns into an input through the SDK's own
 * behaviour store and familiarity) or a decision-log entry's input with a label (decided as it
 * was logged).
 */
import * as z from "zod";
import { Anonymizer, Device, InputSchema, NetworkZone, Reputation, UnixSeconds } from "./input.js";
import { lazySchema } from "./lazy-schema.js";

/** The attack classes of docs/threat-model.md that a stream of logins can show. */
export const AttackClass = lazySchema(() => z.enum([
  "credential_stuffing",
  "vpn",
  "targeted",
  "phishing_proxy",
  "token_replay",
  "mfa_fatigue",
  "insider_privilege",
]));
export type AttackClass = z.output<typeof AttackClass>;

export const Label = lazySchema(() => z.union([z.literal("legitimate"), AttackClass]));
export type Label = z.output<typeof Label>;

const Text = (max: number) => z.string().min(1).max(max);

/** One access, as the service saw it. */
export const LoginEventSchema = lazySchema(() => z.strictObject({
  time: UnixSeconds,
  label: Label,
  subject: z.strictObject({
    id: Text(256),
    roles: z.array(Text(128)).max(64).default([]),
    privilege_granted_at: UnixSeconds.nullable().default(null),
  }),
  /** The session the request carried; its id ties a completed step-up to the requests after it. Null: no token. */
  session: z
    .strictObject({
      id: Text(256),
      acr: Text(256).nullable(),
      amr: z.array(Text(64)).max(16).nullable(),
      auth_time: UnixSeconds.nullable(),
    })
    .nullable(),
  /** The verified posture statement; null when the request carried none. */
  device: Device.nullable(),
  network: z.strictObject({
    asn: z.int().min(0).max(4_294_967_295).nullable(),
    zone: NetworkZone.nullable(),
    reputation: Reputation.nullable(),
    anonymizer: Anonymizer.nullable(),
  }),
  place: z.strictObject({
    country: z.string().regex(/^[A-Z]{2}$/).nullable(),
    lat: z.number().min(-90).max(90).nullable(),
    lon: z.number().min(-180).max(180).nullable(),
    accuracy_km: z.number().min(0).max(50_000).nullable(),
  }),
  /** The browser family of the User-Agent; null when the request carried none. */
  browser: Text(64).nullable(),
  target: z.strictObject({ app: Text(128), action: Text(64) }),
  /** Failed authentication attempts just before this access. */
  failures_before: z.int().min(0).max(1_000).default(0),
}));
export type LoginEvent = z.output<typeof LoginEventSchema>;

/** A logged decision's input with its label, decided as it stands. */
export const LabelledInputSchema = lazySchema(() => z.strictObject({ label: Label, input: InputSchema }));
export type LabelledInput = z.output<typeof LabelledInputSchema>;

export const LabelledLineSchema = lazySchema(() => z.union([LoginEventSchema, LabelledInputSchema]));
export type LabelledLine = z.output<typeof LabelledLineSchema>;
