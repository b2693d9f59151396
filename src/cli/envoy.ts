/** The `stepup envoy …` commands: serve Envoy's ext_authz API, and check the edge settings. */
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Option, type Command } from "commander";
import { DecisionLogger } from "../audit/logger.js";
import { StepupMetrics, type MetricsServer } from "../audit/metrics.js";
import type { Sink } from "../audit/sink.js";
import { FileSink } from "../audit/sinks/file.js";
import { HttpSink } from "../audit/sinks/http.js";
import { EnvoyServeConfigSchema, type EnvoyServeConfig } from "../contracts/envoy-serve.js";
import { toIssues } from "../contracts/issues.js";
import { SIGNING_ALGORITHMS } from "../contracts/signing.js";
import type { DecisionEvent } from "../decision/conclude.js";
import type { RolloutRecord } from "../contracts/decision-log.js";
import { ExtAuthzServer, type FailureMode } from "../enforcement/envoy/server.js";
import { indexEnvoySettings, loadEnvoySettings } from "../enforcement/envoy/settings.js";
import { ConfigInvalidError } from "../errors.js";
import { BundleClient } from "../fleet/client.js";
import { logBundleEvent, type BundleEvent } from "../fleet/events.js";
import { grpc } from "../lazy.js";
import { defaultBundlePath } from "../paths.js";
import { RedisBehaviorStore } from "../signals/behavior/redis.js";
import { MemoryBehaviorStore } from "../signals/behavior/memory.js";
import type { SignalsOptions } from "../signals/collect.js";
import { logRollout, Stepup } from "../stepup.js";
import { readText } from "./io.js";
import { print } from "./output.js";
import { isWorker, reportListening, runWorkers } from "./workers.js";

/** What `envoy serve` runs with: the config file under the flags given. */
type Serve = Omit<EnvoyServeConfig, "workers"> & { settings: string; host: string; port: number; failureMode: FailureMode; timeout: number; geo: boolean; workers: number };

export function registerEnvoyCommands(program: Command): void {
  const envoy = program.command("envoy").description("Envoy ext_authz: serve step-up decisions to Envoy's ext_authz filter");

  envoy
    .command("serve")
    .description("serve envoy.service.auth.v3.Authorization/Check (gRPC, with grpc.health.v1) on the bundle's wasm")
    .option("--config <file>", "JSON file with any of these settings, by long name in camelCase (flags win)")
    .option("--settings <file>", "the edge settings (the data.json of opa-envoy-plugin's stepup_envoy bundle)")
    .option("-b, --bundle <path>", "bundle (.tar.gz or folder)")
    .option("--bundle-url <url>", "poll the bundle from this URL (ETag, 304, long polling), swapping revisions live")
    .option("--bundle-token-file <file>", "bearer token for the bundle server (read from a file)")
    .option("--verification-key <id=pem>", "a key that may sign bundles, as key id=PEM file (repeatable)", collectKeys)
    .addOption(new Option("--signing-alg <alg>", "the keys' algorithm (default RS256)").choices(SIGNING_ALGORITHMS))
    .option("--scope <scope>", "scope a bundle's signature must carry")
    .option("--allow-unsigned", "accept unsigned bundles from --bundle-url (development only)")
    .option("--poll-min-ms <ms>", "shortest delay between polls (default 60000)", toNumber)
    .option("--poll-max-ms <ms>", "longest delay between polls (default 120000)", toNumber)
    .option("--persist-dir <dir>", "keep the last-known-good bundle here, for restarts without the server")
    .option("--candidate <bundle>", "a candidate bundle decided in report-only mode beside the active one (logged, never enforced)")
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--port <port>", "port to listen on (default 9191)", toNumber)
    .option("--tls-cert <pem>", "serve gRPC over TLS with this certificate chain")
    .option("--tls-key <pem>", "and this private key")
    .option("--tls-client-ca <pem>", "mTLS: require client certificates issued by this CA")
    .option("--log-file <path>", "write decision logs to this file (rotated)")
    .option("--log-url <url>", "send decision logs to this service (OPA's decision-log API)")
    .option("--metrics-host <host>", "address of the Prometheus endpoint (default 127.0.0.1)")
    .option("--metrics-port <port>", "serve Prometheus metrics at /metrics on this port", toNumber)
    .option("--redis <host:port>", "keep behaviour in Redis")
    .option("--memory-store", "keep behaviour in memory (one instance only)")
    .option("--city-db <mmdb>", "city geography database (coordinates, accuracy)")
    .option("--asn-db <mmdb>", "ASN database")
    .option("--no-geo", "no geography at all (by default, the bundled country database)")
    .addOption(new Option("--failure-mode <mode>", "when stepup cannot decide (default deny)").choices(["deny", "allow", "error"]))
    .option("--timeout <ms>", "the most a check may take, under Envoy's timeout (default 1000)", toNumber)
    .option("--workers <n>", "processes serving on the same port, one per core at most (`auto`: one per core; default 1)")
    .action(async (flags: Record<string, unknown> & { config?: string }, command: Command) => {
      const opts = await serveOptions(flags, command);
      if (opts.workers > 1 && !isWorker()) return runWorkers(opts.workers);
      const settings = await loadEnvoySettings(opts.settings);
      const metrics = opts.metricsPort === undefined ? undefined : new StepupMetrics();
      const logger = opts.logFile || opts.logUrl ? new DecisionLogger({ sinks: sinks(opts), ...(metrics && { metrics }) }) : undefined;
      const onDecision = (event: DecisionEvent) => {
        logger?.onDecision(event);
        metrics?.observe(event);
      };
      const onRollout = (record: RolloutRecord) => {
        logRollout(record);
        if (logger) logger.onRollout(record);
        else metrics?.rollout(record);
      };
      const hooks = { onDecision, onRollout, ...(metrics && { onEngineEvent: metrics.engineEvent }) };
      const client = opts.bundleUrl ? await BundleClient.start(await clientConfig(opts), { ...hooks, onEvent: bundleEvents(metrics) }) : undefined;
      const stepup = client ? client.stepup : await Stepup.load(opts.bundle ?? defaultBundlePath(), hooks);
      // A candidate that does not load is reported (onRollout) and left out: it never stops the server.
      if (opts.candidate) await stepup.loadCandidate(opts.candidate).catch(() => {});
      const signals: SignalsOptions = {
        geo: opts.geo ? { ...(opts.cityDb && { cityDb: opts.cityDb }), ...(opts.asnDb && { asnDb: opts.asnDb }) } : false,
        ...(await store(opts)),
      };
      const server = await ExtAuthzServer.fromSettings({ stepup, settings, signals, failureMode: opts.failureMode, timeoutMs: opts.timeout });
      const bound = await server.listen({ host: opts.host, port: opts.port, credentials: await credentials(opts) });
      const served: MetricsServer | undefined = metrics && (await metrics.serve({ host: opts.metricsHost ?? "127.0.0.1", port: opts.metricsPort }));
      const tls = opts.tlsCert ? (opts.tlsClientCa ? "mTLS" : "TLS") : "plaintext";
      const candidate = stepup.candidate?.revision;
      const line =
        `stepup ext_authz listening on ${opts.host}:${bound} (${tls}, bundle revision ${stepup.revision}${candidate ? `, candidate ${candidate} in report-only mode` : ""}` +
        `${opts.bundleUrl ? `, polling ${opts.bundleUrl}` : ""}, failure mode ${opts.failureMode})`;
      if (isWorker()) reportListening(bound, line);
      else {
        print(
          { listening: `${opts.host}:${bound}`, port: bound, tls, revision: stepup.revision, candidate: candidate ?? null, bundle_url: opts.bundleUrl ?? null, failure_mode: opts.failureMode, metrics: served?.url ?? null, decision_log: Boolean(logger) },
          () => `${line}\n${served ? `metrics at ${served.url}\n` : ""}`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => void server.close(5_000).then(resolve);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      await client?.stop();
      await stepup.settled();
      await logger?.close();
      await served?.close();
      await signals.behavior?.store.close();
      // A worker's channel to the primary would keep it running.
      if (isWorker()) process.disconnect();
    });

  envoy
    .command("check-settings")
    .description("validate the edge settings (exit 2 naming each field that is wrong)")
    .argument("<file>", "settings JSON")
    .action(async (file: string) => {
      const settings = await loadEnvoySettings(file);
      const parts = Object.keys(settings);
      print({ file, valid: true, sections: parts }, () => `${file}: valid edge settings (${parts.join(", ") || "nothing"})\n`);
    });

  envoy
    .command("index-settings")
    .description("write the edge settings with every address list indexed, for opa-envoy-plugin to look up without a scan")
    .argument("<file>", "settings JSON")
    .option("-o, --out <file>", "where to write them (default: standard output)")
    .action(async (file: string, opts: { out?: string }) => {
      const text = `${JSON.stringify(indexEnvoySettings(await loadEnvoySettings(file)))}\n`;
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });
}

/** The config file's settings, under the flags given on the command line, checked by the schema. */
async function serveOptions(flags: Record<string, unknown> & { config?: string }, command: Command): Promise<Serve> {
  const fromFile = flags.config ? (JSON.parse(await readText(flags.config)) as unknown) : {};
  const given = Object.fromEntries(
    Object.entries(flags).filter(([key]) => key !== "config" && command.getOptionValueSource(key) === "cli"),
  );
  const merged = { ...(typeof fromFile === "object" && fromFile !== null ? fromFile : {}), ...given };
  const parsed = EnvoyServeConfigSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigInvalidError(toIssues(parsed.error));
  const c = parsed.data;
  if (!c.settings) throw new ConfigInvalidError([{ path: "settings", message: "required: --settings or settings in --config" }]);
  if (c.bundle && c.bundleUrl) throw new ConfigInvalidError([{ path: "bundle", message: "give a bundle or a bundle URL, not both" }]);
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) throw new ConfigInvalidError([{ path: "tlsKey", message: "TLS needs both a certificate and a key" }]);
  if (c.tlsClientCa && !c.tlsCert) throw new ConfigInvalidError([{ path: "tlsClientCa", message: "mTLS needs TLS: add a certificate and a key" }]);
  const workers = c.workers === "auto" ? availableParallelism() : (c.workers ?? 1);
  if (workers > 1) {
    // Each worker would keep its own behaviour, so a subject's history would depend on the worker.
    if (c.memoryStore) throw new ConfigInvalidError([{ path: "workers", message: "workers do not share --memory-store: use --redis" }]);
    if (!c.port) throw new ConfigInvalidError([{ path: "port", message: "workers share a port: name one" }]);
    // One metrics port cannot be shared by several processes.
    if (c.metricsPort !== undefined) throw new ConfigInvalidError([{ path: "workers", message: "--metrics-port serves one process: run one server per core instead" }]);
  }
  return { ...c, settings: c.settings, host: c.host ?? "127.0.0.1", port: c.port ?? 9191, failureMode: c.failureMode ?? "deny", timeout: c.timeout ?? 1000, geo: c.geo ?? true, workers };
}

async function clientConfig(opts: Serve) {
  const keys = Object.entries(opts.verificationKeys ?? {});
  const verification =
    keys.length === 0
      ? undefined
      : {
          keys: Object.fromEntries(await Promise.all(keys.map(async ([id, file]) => [id, { key: await readFile(file, "utf8"), algorithm: opts.signingAlg ?? "RS256" }] as const))),
          ...(opts.scope && { scope: opts.scope }),
        };
  return {
    url: opts.bundleUrl as string,
    ...(verification && { verification }),
    allowUnsigned: opts.allowUnsigned ?? false,
    ...(opts.bundleTokenFile && { token: (await readFile(opts.bundleTokenFile, "utf8")).trim() }),
    polling: { minDelayMs: opts.pollMinMs ?? 60_000, maxDelayMs: opts.pollMaxMs ?? Math.max(120_000, opts.pollMinMs ?? 0) },
    ...(opts.persistDir && { persistDir: opts.persistDir }),
  };
}

/** Bundle events on stderr, as the client logs them, and in the metrics. */
function bundleEvents(metrics: StepupMetrics | undefined): (event: BundleEvent) => void {
  return (event) => {
    logBundleEvent(event);
    if (!metrics) return;
    if (event.type === "activated") metrics.bundleActivated(event.revision);
    else metrics.bundleActivationFailed(event.error.code);
  };
}

function sinks(opts: Serve): Sink[] {
  const out: Sink[] = [];
  if (opts.logFile) out.push(new FileSink({ path: opts.logFile }));
  if (opts.logUrl) out.push(new HttpSink({ url: opts.logUrl }));
  return out;
}

/** Insecure, TLS, or mTLS (client certificates checked against the CA). */
async function credentials(opts: Serve) {
  const { ServerCredentials } = grpc();
  if (!opts.tlsCert || !opts.tlsKey) return ServerCredentials.createInsecure();
  const [cert, key, ca] = await Promise.all([readFile(opts.tlsCert), readFile(opts.tlsKey), opts.tlsClientCa ? readFile(opts.tlsClientCa) : null]);
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}

async function store(opts: Serve): Promise<Pick<SignalsOptions, "behavior">> {
  if (opts.redis) {
    const [host, port] = opts.redis.split(":");
    return { behavior: { store: await RedisBehaviorStore.connect({ host: host || "127.0.0.1", port: Number(port || 6379) }) } };
  }
  return opts.memoryStore ? { behavior: { store: new MemoryBehaviorStore() } } : {};
}

function collectKeys(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf("=");
  // A bare file is the key with OPA's default id.
  const [id, file] = at > 0 ? [value.slice(0, at), value.slice(at + 1)] : ["default", value];
  return { ...previous, [id]: file };
}

function toNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ConfigInvalidError([{ path: value, message: "expected a number" }]);
  return n;
}
