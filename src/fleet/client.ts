/**
 * The SDK's bundle client: keeps a `Stepup` on the newest bundle a server publishes, the way OPA's
 * bundle plugin does. It polls with `If-None-Match` (304 = unchanged), switches to long polling
 * when the server offers it, backs off exponentially with jitter after failures, verifies every
 * download before anything uses it, swaps it in atomically (a decision in progress finishes on the
 * revision it started with), and keeps the last-known-good archive on disk for starts when the
 * server cannot be reached. Activations and failures are reported as events. With `candidateUrl`
 * it follows a second, candidate channel the same way, into the SDK's report-only candidate.
 */
import { BundleClientConfigSchema, type BundleClientConfig, type ResolvedBundleClientConfig } from "../contracts/bundle-client.js";
import { toIssues } from "../contracts/issues.js";
import {
  BundleDownloadError,
  BundleInvalidError,
  BundlePersistError,
  BundleUnavailableError,
  ConfigInvalidError,
  isStepupError,
  type StepupErrors,
} from "../errors.js";
import { Stepup, type StepupOptions } from "../stepup.js";
import { DEFAULT_LIMITS, type ArchiveLimits } from "../bundle/archive.js";
import { backoffDelay, pollingDelay, sleep } from "./backoff.js";
import { logBundleEvent, type BundleEvent, type FailureStage } from "./events.js";
import { fetchBundle, redactUrl, type FetchResult } from "./fetch.js";
import { readBundle, type Bundle } from "../bundle/load.js";
import { LastKnownGood, sha256, type SavedBundle } from "./persist.js";
import { BundleVerifier } from "../bundle/verify.js";

export interface BundleClientOptions extends StepupOptions {
  /** Activations and failures; by default one line of JSON each on stderr (no token, no query string). */
  readonly onEvent?: (event: BundleEvent) => void;
}

/** What the client knows now, for health checks. */
export interface BundleClientStatus {
  readonly revision: string;
  /** The candidate revision held in report-only mode, if any. */
  readonly candidate?: string;
  readonly etag?: string;
  readonly longPolling: boolean;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly stage: FailureStage };
}

export class BundleClient {
  private current?: Stepup;
  private etag?: string;
  private digest?: string;
  private longPoll = false;
  private failures = 0;
  private lastError?: BundleClientStatus["lastError"];
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly where: string;
  private readonly limits: ArchiveLimits;
  private readonly verifier?: BundleVerifier;
  private readonly store?: LastKnownGood;
  private readonly emit: (event: BundleEvent) => void;
  /** The client of the candidate channel, feeding this client's SDK. */
  private follower?: BundleClient;
  /** For the candidate channel's client: the client of the active channel. */
  private leader?: BundleClient;
  private inFlight?: Promise<"activated" | "unchanged" | "failed">;

  private constructor(
    private readonly config: ResolvedBundleClientConfig,
    private readonly options: BundleClientOptions,
    /** The channel this client feeds: the active bundle, or the candidate of a report-only rollout. */
    private readonly channel: "active" | "candidate" = "active",
  ) {
    this.where = redactUrl(config.url);
    this.limits = { ...DEFAULT_LIMITS, ...stripUndefined(config.limits) };
    this.verifier = config.verification ? new BundleVerifier(config.verification) : undefined;
    this.store = config.persistDir ? new LastKnownGood(config.persistDir, this.limits.maxCompressedBytes) : undefined;
    const listener = options.onEvent ?? logBundleEvent;
    this.emit = (event) => {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop the client.
      }
    };
  }

  /**
   * Starts a client: the bundle from the server or, when it cannot be had, the last-known-good
   * copy on disk; then keeps polling in the background. Throws `ConfigInvalidError` for a bad
   * configuration and `BundleUnavailableError` when neither gives a bundle that verifies.
   * @example
   * const client = await BundleClient.start({
   *   url: "https://bundles.example.com/stepup/bundle.tar.gz",
   *   verification: { keys: { default: { key: publicPem, algorithm: "ES256" } } },
   *   persistDir: "/var/lib/myservice/stepup",
   * });
   * const decision = client.stepup.decide(input);
   */
  static async start(config: BundleClientConfig, options: BundleClientOptions = {}): Promise<BundleClient> {
    const parsed = BundleClientConfigSchema.safeParse(config);
    if (!parsed.success) throw new ConfigInvalidError(toIssues(parsed.error));
    const client = new BundleClient(parsed.data, options);
    await client.boot();
    client.loop = client.run();
    if (parsed.data.candidateUrl) client.follower = client.follow(parsed.data.candidateUrl);
    return client;
  }

  /**
   * Follows the candidate channel with the same settings: polled in the background from now on,
   * never holding up the active bundle; nothing it fetches is ever enforced.
   */
  private follow(url: string): BundleClient {
    const follower = new BundleClient({ ...this.config, url, persistDir: undefined, candidateUrl: undefined }, this.options, "candidate");
    follower.current = this.current;
    follower.leader = this;
    follower.loop = follower.pollOnce(undefined, this.config.requestTimeoutMs).then(() => follower.run());
    return follower;
  }

  /** The SDK on the active bundle; the same object for the client's life, its bundle swapped in place. */
  get stepup(): Stepup {
    if (!this.current) throw new Error("the bundle client has not started");
    return this.current;
  }

  get revision(): string {
    return this.stepup.revision;
  }

  status(): BundleClientStatus {
    return {
      revision: this.revision,
      etag: this.etag,
      longPolling: this.longPoll,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      ...(this.stepup.candidate && { candidate: this.stepup.candidate.revision }),
    };
  }

  /** Stops polling and cancels a request in flight; decisions go on with the active bundle. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([this.loop, this.follower?.stop()]);
  }

  /**
   * The first bundle, within `startTimeoutMs` from the call: the server's, or the saved copy, which
   * compiles while the server is asked so that it serves at once when the server cannot.
   */
  private async boot(): Promise<void> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    const saved = await this.restore();
    const fromDisk = saved && prepared(Stepup.create(saved.bundle, this.options));
    for (;;) {
      const outcome = await this.pollOnce(saved?.etag, Math.max(1, deadline - Date.now()));
      if (outcome === "activated") return;
      // Unchanged (304 for the saved ETag) or failed: the saved copy serves, without waiting longer.
      if (saved && fromDisk) {
        const ready = await fromDisk;
        if ("error" in ready) {
          const reason = ready.error instanceof Error ? ready.error.message : String(ready.error);
          throw new BundleUnavailableError(this.where, `the saved bundle does not load: ${reason}`, { cause: ready.error });
        }
        return this.adopt(ready.stepup, saved.bundle, saved.bytes, saved.etag, "disk");
      }
      const delay = backoffDelay(this.failures, { baseMs: this.config.polling.retryBaseMs, maxMs: this.config.polling.maxDelayMs });
      if (Date.now() + delay >= deadline) {
        const reason = this.lastError ? `${this.lastError.code}: ${this.lastError.message}` : "no answer";
        throw new BundleUnavailableError(this.where, `${reason}; and no last-known-good bundle on disk`);
      }
      await sleep(delay);
    }
  }

  /** The saved bundle, verified again; undefined (and reported) when there is none that verifies. */
  private async restore(): Promise<(SavedBundle & { bundle: Bundle }) | undefined> {
    if (!this.store) return undefined;
    try {
      const saved = await this.store.load();
      if (!saved) return undefined;
      return { ...saved, bundle: await readBundle(saved.bytes, saved.path, { verifier: this.verifier, limits: this.limits }) };
    } catch (err) {
      this.fail("restore", err, false);
      return undefined;
    }
  }

  private async run(): Promise<void> {
    const { polling } = this.config;
    while (!this.abort.signal.aborted) {
      const longPolling = this.longPoll && polling.longPollingTimeoutSeconds !== undefined;
      const delay =
        this.failures > 0
          ? backoffDelay(this.failures, { baseMs: polling.retryBaseMs, maxMs: polling.maxDelayMs })
          : longPolling
            ? 0
            : pollingDelay(polling.minDelayMs, polling.maxDelayMs);
      await sleep(delay, this.abort.signal);
      if (this.abort.signal.aborted) break;
      await this.pollOnce(this.etag, this.config.requestTimeoutMs);
    }
  }

  /** One request at a time: a second caller (the candidate channel's) shares the one in flight. */
  private pollOnce(etag: string | undefined, timeoutMs: number): Promise<"activated" | "unchanged" | "failed"> {
    this.inFlight ??= this.pollNow(etag, timeoutMs).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** One request, and what came of it. Never throws: failures are counted and reported. */
  private async pollNow(etag: string | undefined, timeoutMs: number): Promise<"activated" | "unchanged" | "failed"> {
    const { polling } = this.config;
    let result: FetchResult;
    try {
      result = await fetchBundle({
        url: this.config.url,
        etag,
        token: this.config.token,
        waitSeconds: this.longPoll ? polling.longPollingTimeoutSeconds : undefined,
        maxBytes: this.limits.maxCompressedBytes,
        timeoutMs,
        signal: this.abort.signal,
      });
    } catch (err) {
      if (this.abort.signal.aborted) return "unchanged";
      if (this.channel === "candidate" && err instanceof BundleDownloadError && err.status === 404) return await this.withdrawn();
      return this.fail("download", err);
    }
    if (!result.modified) {
      if (result.longPoll) this.longPoll = true;
      return this.succeeded("unchanged");
    }
    this.longPoll = result.longPoll;
    const digest = sha256(result.bytes);
    // A server without ETags sends the same bytes again: nothing to do.
    if (digest === this.digest) {
      this.etag = result.etag;
      return this.succeeded("unchanged");
    }
    let bundle: Bundle;
    try {
      bundle = await readBundle(result.bytes, this.where, { verifier: this.verifier, limits: this.limits });
    } catch (err) {
      return this.fail("verify", err);
    }
    try {
      await this.activate(bundle, result.bytes, result.etag, "server");
    } catch (err) {
      return this.fail("activate", err);
    }
    return this.succeeded("activated");
  }

  private async activate(bundle: Bundle, bytes: Uint8Array, etag: string | undefined, source: "server" | "disk") {
    if (this.channel === "candidate") return this.hold(bundle, bytes, etag);
    if (this.current) {
      const previous = this.current.revision;
      await this.current.activate(bundle);
      return this.activated(bundle, bytes, etag, source, previous);
    }
    return this.adopt(await Stepup.create(bundle, this.options), bundle, bytes, etag, source);
  }

  /** Makes a Stepup compiled for the first bundle the client's. */
  private async adopt(stepup: Stepup, bundle: Bundle, bytes: Uint8Array, etag: string | undefined, source: "server" | "disk") {
    this.current = stepup;
    return this.activated(bundle, bytes, etag, source, undefined);
  }

  private async activated(bundle: Bundle, bytes: Uint8Array, etag: string | undefined, source: "server" | "disk", previous: string | undefined) {
    this.etag = etag;
    this.digest = sha256(bytes);
    this.emit({ type: "activated", revision: bundle.revision, previous, source, etag, keyId: bundle.signature?.keyId });
    if (source === "server" && this.store) {
      try {
        await this.store.save(bytes, bundle.revision, etag);
      } catch (err) {
        this.fail("persist", err, false);
      }
    }
  }

  /** The candidate channel's bundle, held beside the active one; a failure to compile keeps what was held. */
  private async hold(bundle: Bundle, bytes: Uint8Array, etag: string | undefined): Promise<void> {
    await this.stepup.setCandidate(bundle);
    this.etag = etag;
    this.digest = sha256(bytes);
    this.emit({ type: "activated", channel: "candidate", revision: bundle.revision, source: "server", etag, keyId: bundle.signature?.keyId });
  }

  /**
   * No candidate published (404): report-only mode ends. A candidate taken down because it was
   * promoted is on the active channel now: that channel is asked first, so the SDK promotes the
   * candidate it holds (and records the promotion) rather than dropping it and compiling it again.
   */
  private async withdrawn(): Promise<"unchanged"> {
    const candidate = this.stepup.candidate;
    if (candidate && this.leader && !this.leader.abort.signal.aborted) await this.leader.pollOnce(this.leader.etag, this.config.requestTimeoutMs);
    this.etag = undefined;
    this.digest = undefined;
    this.stepup.clearCandidate();
    return this.succeeded("unchanged");
  }

  private succeeded<T>(outcome: T): T {
    this.failures = 0;
    return outcome;
  }

  /** Reports a failure; `poll` failures count towards the backoff, disk ones do not. */
  private fail(stage: FailureStage, err: unknown, poll = true): "failed" {
    const error = this.typed(stage, err);
    if (poll) this.failures++;
    this.lastError = { code: error.code, message: error.message, stage };
    const channel = this.channel === "candidate" ? ({ channel: "candidate" } as const) : {};
    this.emit({ type: "failed", ...channel, stage, error, revision: this.current?.revision, failures: this.failures });
    return "failed";
  }

  private typed(stage: FailureStage, err: unknown): StepupErrors {
    if (isStepupError(err)) return err;
    const reason = err instanceof Error ? err.message : String(err);
    if (stage === "download") return new BundleDownloadError(this.where, reason, undefined, { cause: err });
    if (stage === "persist") return new BundlePersistError(this.store?.dir ?? "", reason, { cause: err });
    return new BundleInvalidError(stage === "restore" ? (this.store?.path ?? "") : this.where, reason, { cause: err });
  }
}

/** A promise that settles with its value or its error, never rejecting (nobody may be waiting for it). */
function prepared(work: Promise<Stepup>): Promise<{ stepup: Stepup } | { error: unknown }> {
  return work.then(
    (stepup) => ({ stepup }),
    (error: unknown) => ({ error }),
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
