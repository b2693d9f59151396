/** The `stepup envoy …` commands: serve Envoy's ext_authz API, and check the edge settings. */
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { ExtAuthzServer, type FailureMode } from "../enforcement/envoy/server.js";
import { indexEnvoySettings, loadEnvoySettings } from "../enforcement/envoy/settings.js";
import { ConfigInvalidError } from "../errors.js";
import { defaultBundlePath } from "../paths.js";
import { RedisBehaviorStore } from "../signals/behavior/redis.js";
import { MemoryBehaviorStore } from "../signals/behavior/memory.js";
import type { SignalsOptions } from "../signals/collect.js";
import { logRollout, Stepup } from "../stepup.js";
import { DecisionLogger } from "../audit/logger.js";
import { StepupMetrics } from "../audit/metrics.js";
import { FileSink } from "../audit/sinks/file.js";
import { isWorker, reportListening, runWorkers } from "./workers.js";

interface ServeFlags {
  settings: string;
  bundle?: string;
  host: string;
  port: string;
  redis?: string;
  memoryStore?: boolean;
  cityDb?: string;
  asnDb?: string;
  geo: boolean;
  failureMode: string;
  timeout: string;
  candidate?: string;
  decisionLog?: string;
  metricsPort?: string;
  workers: string;
}

const MODES: readonly FailureMode[] = ["deny", "allow", "error"];

export function registerEnvoyCommands(program: Command): void {
  const envoy = program.command("envoy").description("Envoy ext_authz: serve step-up decisions to Envoy's ext_authz filter");

  envoy
    .command("serve")
    .description("serve envoy.service.auth.v3.Authorization/Check (gRPC, with grpc.health.v1) on the bundle's wasm")
    .requiredOption("--settings <file>", "the edge settings (the data.json of opa-envoy-plugin's stepup_envoy bundle)")
    .option("-b, --bundle <path>", "bundle (.tar.gz or folder)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on", "9191")
    .option("--redis <host:port>", "keep behaviour in Redis")
    .option("--memory-store", "keep behaviour in memory (one instance only)")
    .option("--city-db <mmdb>", "city geography database (coordinates, accuracy)")
    .option("--asn-db <mmdb>", "ASN database")
    .option("--no-geo", "no geography at all (by default, the bundled country database)")
    .option("--failure-mode <mode>", "when stepup cannot decide: deny, allow or error", "deny")
    .option("--timeout <ms>", "the most a check may take (keep it under Envoy's timeout)", "1000")
    .option("--candidate <bundle>", "a candidate bundle decided in report-only mode beside the active one (logged, never enforced)")
    .option("--decision-log <file>", "write decision logs (NDJSON, OPA's format) to this file, with the candidate's outcomes")
    .option("--metrics-port <port>", "serve Prometheus metrics on 127.0.0.1:<port>/metrics")
    .option("--workers <n>", "processes serving on the same port, one per core at most (`auto`: one per core)", "1")
    .action(async (opts: ServeFlags) => {
      const mode = opts.failureMode as FailureMode;
      if (!MODES.includes(mode)) throw new ConfigInvalidError([{ path: "--failure-mode", message: `expected one of ${MODES.join(", ")}` }]);
      const port = Number(opts.port);
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigInvalidError([{ path: "--port", message: "expected a port number" }]);
      if (!(timeoutMs > 0)) throw new ConfigInvalidError([{ path: "--timeout", message: "expected milliseconds" }]);
      const metricsPort = opts.metricsPort === undefined ? undefined : Number(opts.metricsPort);
      if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535)) {
        throw new ConfigInvalidError([{ path: "--metrics-port", message: "expected a port number" }]);
      }
      const workers = opts.workers === "auto" ? availableParallelism() : Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new ConfigInvalidError([{ path: "--workers", message: "expected a number of processes from 1 to 256, or auto" }]);
      // Each worker would keep its own behaviour, so a subject's history would depend on the worker.
      if (workers > 1 && opts.memoryStore) throw new ConfigInvalidError([{ path: "--workers", message: "workers do not share --memory-store: use --redis" }]);
      if (workers > 1 && port === 0) throw new ConfigInvalidError([{ path: "--port", message: "workers share a port: name one" }]);
      // One metrics port and one log file cannot be shared by several processes.
      if (workers > 1 && (opts.metricsPort !== undefined || opts.decisionLog)) {
        throw new ConfigInvalidError([{ path: "--workers", message: "--metrics-port and --decision-log serve one process: run one per worker instead" }]);
      }
      if (workers > 1 && !isWorker()) return runWorkers(workers);
      const settings = await loadEnvoySettings(opts.settings);
      const metrics = metricsPort !== undefined ? new StepupMetrics() : undefined;
      const logger = opts.decisionLog ? new DecisionLogger({ sinks: [new FileSink({ path: opts.decisionLog })], metrics }) : undefined;
      const listening = logger || metrics;
      const stepup = await Stepup.load(opts.bundle ?? defaultBundlePath(), {
        ...(listening && {
          onDecision: (e) => {
            metrics?.observe(e);
            logger?.onDecision(e);
          },
          onRollout: (r) => {
            logRollout(r);
            if (logger) logger.onRollout(r);
            else metrics?.rollout(r);
          },
        }),
      });
      if (opts.candidate) {
        // A candidate that does not load is reported and left out: it never stops the server.
        await stepup.loadCandidate(opts.candidate).catch(() => {});
      }
      const metricsServer = metricsPort !== undefined ? await metrics!.serve({ port: metricsPort }) : undefined;
      const signals: SignalsOptions = {
        geo: opts.geo ? { ...(opts.cityDb && { cityDb: opts.cityDb }), ...(opts.asnDb && { asnDb: opts.asnDb }) } : false,
        ...(await store(opts)),
      };
      const server = await ExtAuthzServer.fromSettings({ stepup, settings, signals, failureMode: mode, timeoutMs });
      const bound = await server.listen({ host: opts.host, port });
      const candidate = stepup.candidate ? `, candidate ${stepup.candidate.revision} in report-only mode` : "";
      const line = `stepup ext_authz listening on ${opts.host}:${bound} (bundle revision ${stepup.revision}${candidate}, failure mode ${mode})`;
      if (isWorker()) reportListening(bound, line);
      else process.stdout.write(`${line}\n`);
      if (metricsServer) process.stdout.write(`metrics on ${metricsServer.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void server.close(5_000).then(resolve);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      await stepup.settled();
      await logger?.close();
      await metricsServer?.close();
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
      const parts = Object.keys(settings).join(", ") || "nothing";
      process.stdout.write(`${file}: valid edge settings (${parts})\n`);
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

async function store(opts: ServeFlags): Promise<Pick<SignalsOptions, "behavior">> {
  if (opts.redis) {
    const [host, port] = opts.redis.split(":");
    return { behavior: { store: await RedisBehaviorStore.connect({ host: host || "127.0.0.1", port: Number(port || 6379) }) } };
  }
  return opts.memoryStore ? { behavior: { store: new MemoryBehaviorStore() } } : {};
}
