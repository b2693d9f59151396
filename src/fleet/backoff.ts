/**
 * Delays between polls and retries, as OPA's bundle downloader spaces them: a polling delay drawn
 * uniformly between the minimum and the maximum (so a fleet does not poll in lockstep), and after
 * failures an exponential backoff with ±20% jitter, capped at the maximum delay.
 */

export interface BackoffOptions {
  /** The first retry's delay, in milliseconds. */
  readonly baseMs: number;
  /** No delay exceeds this, in milliseconds. */
  readonly maxMs: number;
  readonly factor?: number;
  /** The fraction by which a delay is moved up or down at random. */
  readonly jitter?: number;
}

/** The delay before retry number `failures` (1 for the first), in milliseconds. */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const factor = options.factor ?? 1.6;
  const jitter = options.jitter ?? 0.2;
  const exponential = Math.min(options.maxMs, options.baseMs * factor ** (failures - 1));
  return Math.max(0, Math.min(options.maxMs, exponential * (1 + jitter * (random() * 2 - 1))));
}

/** A polling delay between `minMs` and `maxMs`, in milliseconds. */
export function pollingDelay(minMs: number, maxMs: number, random: () => number = Math.random): number {
  return minMs + (maxMs - minMs) * random();
}

/** Waits `ms` milliseconds, or less if the signal aborts (then it resolves, it does not throw). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
