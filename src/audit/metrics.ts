/**
 * Prometheus metrics with prom-client, on a registry of stepup's own (several SDK instances or
 * tests never collide in the global one). Labels are codes from the bundle's catalog, tiers and
 * outcomes — bounded sets — never subjects or addresses. The shadow metrics of a report-only
 * rollout are also counted by app: the first `maxApps` apps seen have their own label value,
 * later ones count under `other`, so a caller naming apps at will cannot grow the series.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Counter, Gauge, Registry } from "prom-client";
import type { RolloutRecord } from "../contracts/decision-log.js";
import type { DecisionEvent } from "../decision/conclude.js";
import type { EngineEvent } from "../engine/inprocess/fallbacks.js";
import { nodeHttp, promClient } from "../lazy.js";
import { CounterCells, HistogramCells } from "./metric-cells.js";
import type { DropReason } from "./sink.js";

export interface MetricsOptions {
  /** The registry to register on; a new one by default. */
  readonly registry?: Registry;
  /** Latency buckets in seconds; the default spans 10 µs to 100 ms. */
  readonly buckets?: readonly number[];
  /** Apps with a label value of their own in the shadow metrics (200 by default); later ones count as `other`. */
  readonly maxApps?: number;
}

/** What a bundle client reports, as far as the metrics read it (fleet's `BundleEvent`). */
export type BundleActivity =
  | { readonly type: "activated"; readonly revision: string; readonly channel?: "candidate" }
  | { readonly type: "failed"; readonly stage: string; readonly error: { readonly code: string }; readonly channel?: "candidate" };

/** The app label value for apps beyond `maxApps`. */
export const OTHER_APP = "other";

const DEFAULT_BUCKETS = [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1];

export class StepupMetrics {
  readonly registry: Registry;
  // What every decision counts, in cells read into prom-client on a scrape (metric-cells.ts).
  private readonly decisions: CounterCells;
  private readonly reasons: CounterCells;
  private readonly failures: Counter<"code">;
  private readonly exceptions: CounterCells;
  private readonly latency: HistogramCells;
  private readonly activeBundle: Gauge<"revision">;
  private readonly activationFailures: Counter<"code">;
  private readonly logDrops: Counter<"sink" | "reason">;
  private readonly activatedAt: Gauge;
  private readonly shadowDecisions: Counter<"tier" | "app" | "agreement">;
  private readonly shadowTransitions: Counter<"tier" | "app" | "from" | "to">;
  private readonly shadowFailures: Counter<"code">;
  private readonly shadowSkipped: Counter;
  private readonly candidateInfo: Gauge<"revision">;
  private readonly rollouts: Counter<"action">;
  private readonly fallbacks: Counter<"fallback">;
  private activeRevision: string | undefined;
  private candidateRevision: string | undefined;
  private readonly apps = new Set<string>();
  private readonly maxApps: number;

  constructor(options: MetricsOptions = {}) {
    const { Counter, Gauge, Registry } = promClient();
    const registry = (this.registry = options.registry ?? new Registry());
    const registers = [registry];
    /** A counter whose counts a decision adds to cells, flushed into it whenever it is read. */
    const cells = <L extends string>(config: { name: string; help: string; labelNames: L[] }): CounterCells => {
      let flushed: CounterCells | undefined;
      const counter: Counter<L> = new Counter({ ...config, registers, collect: () => flushed?.flush() });
      return (flushed = new CounterCells(counter, config.labelNames));
    };
    this.decisions = cells({
      name: "stepup_decisions_total",
      help: "Decisions made, by outcome and target tier (fail-closed decisions count as deny, critical).",
      labelNames: ["outcome", "tier"],
    });
    this.reasons = cells({
      name: "stepup_decision_reasons_total",
      help: "Reason codes given with decisions, by outcome; a decision counts once per reason.",
      labelNames: ["outcome", "reason"],
    });
    this.failures = new Counter({
      name: "stepup_decision_failures_total",
      help: "Decisions the policy could not make (the SDK failed closed), by error code.",
      labelNames: ["code"],
      registers,
    });
    this.exceptions = cells({
      name: "stepup_exceptions_used_total",
      help: "Exceptions applied to decisions, by kind and exception id; each use is logged for review.",
      labelNames: ["kind", "exception_id"],
    });
    this.latency = new HistogramCells(
      "stepup_decision_duration_seconds",
      "Time to evaluate the policy and render the decision.",
      options.buckets ?? DEFAULT_BUCKETS,
      registers,
    );
    this.activeBundle = new Gauge({
      name: "stepup_bundle_active_info",
      help: "The bundle revision that makes decisions now (value 1).",
      labelNames: ["revision"],
      registers,
    });
    this.activationFailures = new Counter({
      name: "stepup_bundle_activation_failures_total",
      help: "Bundles that could not be activated (the previous one stayed active), by error code.",
      labelNames: ["code"],
      registers,
    });
    this.logDrops = new Counter({
      name: "stepup_decision_log_dropped_total",
      help: "Decision-log events dropped, by sink and reason (drop_rule is counted under sink all).",
      labelNames: ["sink", "reason"],
      registers,
    });
    this.activatedAt = new Gauge({
      name: "stepup_bundle_activated_timestamp_seconds",
      help: "When the active bundle revision was activated (Unix seconds): the bundle's age is time() minus this.",
      registers,
    });
    this.shadowDecisions = new Counter({
      name: "stepup_shadow_decisions_total",
      help: "Decisions also made by the candidate of a report-only rollout, by target tier, app and whether the candidate's outcome agreed with the enforced one.",
      labelNames: ["tier", "app", "agreement"],
      registers,
    });
    this.shadowTransitions = new Counter({
      name: "stepup_shadow_transitions_total",
      help: "Enforced outcome to the candidate's outcome (allow to step_up, …, unchanged pairs included), by target tier and app.",
      labelNames: ["tier", "app", "from", "to"],
      registers,
    });
    this.shadowFailures = new Counter({
      name: "stepup_shadow_failures_total",
      help: "Decisions the candidate could not make (counted as its fail-closed deny; nothing enforced changes), by error code.",
      labelNames: ["code"],
      registers,
    });
    this.shadowSkipped = new Counter({
      name: "stepup_shadow_skipped_total",
      help: "Decisions not compared because the candidate's queue was full (the enforced decision is unaffected).",
      registers,
    });
    this.candidateInfo = new Gauge({
      name: "stepup_shadow_candidate_info",
      help: "The candidate revision of a report-only rollout (value 1); absent when none is held.",
      labelNames: ["revision"],
      registers,
    });
    this.rollouts = new Counter({
      name: "stepup_rollouts_total",
      help: "Switches of revisions in report-only rollouts, by action (promoted, rolled_back, candidate_set, candidate_cleared, candidate_failed).",
      labelNames: ["action"],
      registers,
    });
    this.maxApps = options.maxApps ?? 200;
    this.fallbacks = new Counter({
      name: "stepup_engine_fallbacks_total",
      help: "Fallbacks the in-process engine took where a fast path did not hold, by kind; each counts once per bundle activated.",
      labelNames: ["fallback"],
      registers,
    });
  }

  /** Counts one decision; pass it as (or call it from) the SDK's `onDecision`. */
  readonly observe = (event: DecisionEvent): void => {
    const { decision } = event;
    this.decisions.add(decision.outcome, decision.target.tier);
    for (const reason of decision.reasons) this.reasons.add(decision.outcome, reason.code);
    if (event.error) this.failures.inc({ code: event.error.code });
    for (const exception of decision.exceptions) this.exceptions.add(exception.kind, exception.id);
    this.latency.observe(event.durationNs / 1e9);
    if (decision.policy.revision !== this.activeRevision) this.bundleActivated(decision.policy.revision);
    if (event.shadow) this.observeShadow(event);
  };

  private observeShadow(event: DecisionEvent): void {
    const shadow = event.shadow!;
    if (shadow.revision !== this.candidateRevision) this.candidateHeld(shadow.revision);
    if (shadow.skipped) {
      this.shadowSkipped.inc();
      return;
    }
    if (shadow.error) this.shadowFailures.inc({ code: shadow.error.code });
    const { outcome: from, target } = event.decision;
    const to = shadow.outcome ?? "deny";
    const labels = { tier: target.tier, app: this.appLabel(target.app) };
    this.shadowDecisions.inc({ ...labels, agreement: from === to ? "agree" : "disagree" });
    this.shadowTransitions.inc({ ...labels, from, to });
  }

  private appLabel(app: string): string {
    if (this.apps.has(app)) return app;
    if (this.apps.size >= this.maxApps) return OTHER_APP;
    this.apps.add(app);
    return app;
  }

  private candidateHeld(revision: string | undefined): void {
    this.candidateRevision = revision;
    this.candidateInfo.reset();
    if (revision !== undefined) this.candidateInfo.set({ revision }, 1);
  }

  /** Counts a switch of revisions; the decision logger's `onRollout` calls it. */
  rollout(record: RolloutRecord): void {
    this.rollouts.inc({ action: record.action });
    if (record.action === "candidate_failed") {
      this.shadowFailures.inc({ code: record.error?.code ?? "unknown" });
      return;
    }
    if (record.active !== this.activeRevision) this.bundleActivated(record.active);
    this.candidateHeld(record.candidate);
  }

  /**
   * Counts what a bundle client reports: pass it as (or call it from) the client's `onEvent`.
   * An activation sets the active revision and its time; a failure to verify or activate a
   * download counts as an activation failure. On the candidate channel, an activation names the
   * candidate and a failure counts as the candidate's (`stepup_shadow_failures_total`).
   */
  readonly onBundleEvent = (event: BundleActivity): void => {
    const loaded = event.type === "failed" && (event.stage === "verify" || event.stage === "activate");
    if (event.channel === "candidate") {
      // The candidate channel's bundles are never enforced: their failures are the candidate's.
      if (event.type === "activated") this.candidateHeld(event.revision);
      else if (loaded) this.shadowFailures.inc({ code: event.error.code });
      return;
    }
    if (event.type === "activated") this.bundleActivated(event.revision);
    else if (loaded) this.bundleActivationFailed(event.error.code);
  };

  /** Records the revision now active; the bundle client calls it after `Stepup.activate`. */
  bundleActivated(revision: string): void {
    this.activeRevision = revision;
    this.activeBundle.reset();
    this.activeBundle.set({ revision }, 1);
    this.activatedAt.set(Date.now() / 1000);
  }

  /** Records a bundle that could not be activated; `code` is the error's (ERR_BUNDLE_INVALID …). */
  bundleActivationFailed(code: string): void {
    this.activationFailures.inc({ code });
  }

  /** Counts an engine's fallback; pass it as (or call it from) the SDK's `onEngineEvent`. */
  readonly engineEvent = (event: EngineEvent): void => {
    this.fallbacks.inc({ fallback: event.fallback });
  };

  /** Records dropped decision-log events; the decision logger calls it. */
  logDropped(sink: string, reason: DropReason, count = 1): void {
    this.logDrops.inc({ sink, reason }, count);
  }

  /** The exposition text, as a scrape returns it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Serves `/metrics` on its own HTTP server (127.0.0.1 and a free port by default), for
   * services without a web framework; with one, route to `text()` and `registry.contentType`.
   */
  async serve(options: { host?: string; port?: number } = {}): Promise<MetricsServer> {
    const server = nodeHttp().createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
    });
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(":") ? `[${address}]` : address;
    return { url: `http://${host}:${port}/metrics`, server, close: () => closeServer(server) };
  }
}

export interface MetricsServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
