/**
 * A write to the behaviour store as data: what `StateWriteError.record` holds when the store
 * could not be reached, so that the write can be kept (a queue, a table) and applied later.
 */
import type { BehaviorStore, LoginEvent } from "./store.js";

export type BehaviorRecord =
  | { readonly kind: "login"; readonly subject: string; readonly login: LoginEvent }
  | { readonly kind: "prompt"; readonly subject: string; readonly time: number }
  | { readonly kind: "failure"; readonly subject: string; readonly time: number };

/** Applies a kept write; throws `StateWriteError` again while the store is still unreachable. */
export async function applyRecord(store: BehaviorStore, record: BehaviorRecord): Promise<void> {
  if (record.kind === "login") await store.recordLogin(record.subject, record.login);
  else if (record.kind === "prompt") await store.recordPrompt(record.subject, record.time);
  else await store.recordFailure(record.subject, record.time);
}
