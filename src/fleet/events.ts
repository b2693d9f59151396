/**
 * What a bundle client reports: each activation (which revision, from the server or from disk)
 * and each failure (at which stage, with its typed error), while the active revision stays.
 */
import type { StepupErrors } from "../errors.js";

/** Where a failure happened: the request, the checks of the archive and signature, compiling, the disk. */
export type FailureStage = "download" | "verify" | "activate" | "persist" | "restore";

export type BundleEvent =
  | {
      readonly type: "activated";
      /** "candidate" for the candidate channel of a report-only rollout; absent for the active bundle. */
      readonly channel?: "candidate";
      readonly revision: string;
      /** The revision it replaced; absent for the first. */
      readonly previous?: string;
      /** "disk" when it is the last-known-good copy, at start. */
      readonly source: "server" | "disk";
      readonly etag?: string;
      /** The key id the signature was verified with; absent for unsigned bundles. */
      readonly keyId?: string;
    }
  | {
      readonly type: "failed";
      readonly channel?: "candidate";
      readonly stage: FailureStage;
      readonly error: StepupErrors;
      /** The revision that stays active; absent when none is active yet. */
      readonly revision?: string;
      /** Consecutive failed polls so far. */
      readonly failures: number;
    };

/** The default listener: one line of JSON on stderr per event. Errors carry their code and message, never a token. */
export function logBundleEvent(event: BundleEvent): void {
  const line =
    event.type === "activated"
      ? { level: "info", msg: "stepup bundle activated", ...event }
      : {
          level: "error",
          msg: event.channel ? "stepup candidate update failed; keeping the candidate held" : "stepup bundle update failed; keeping the active revision",
          ...(event.channel && { channel: event.channel }),
          stage: event.stage,
          code: event.error.code,
          error: event.error.message,
          revision: event.revision,
          failures: event.failures,
        };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
