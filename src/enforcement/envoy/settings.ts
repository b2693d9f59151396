/**
 * The Envoy edge settings for the Node ext_authz server: validated against the same contract as
 * the data opa-envoy-plugin reads (`data.stepup_envoy`), and turned into the SDK's signal options,
 * so the two servers verify the same tokens and statements and classify the same networks.
 */
import { readFile } from "node:fs/promises";
import { EnvoySettingsSchema, type EnvoySettings } from "../../contracts/envoy.js";
import { toIssues } from "../../contracts/issues.js";
import { EnvoySettingsInvalidError } from "../../errors.js";
import type { SignalsOptions } from "../../signals/collect.js";

/** Validates an edge settings document; throws `EnvoySettingsInvalidError` naming each field. */
export function parseEnvoySettings(raw: unknown): EnvoySettings {
  const result = EnvoySettingsSchema.safeParse(raw);
  if (!result.success) throw new EnvoySettingsInvalidError(toIssues(result.error, "stepup_envoy"));
  return result.data;
}

/** Reads and validates an edge settings file (the data.json of the plugin's data bundle). */
export async function loadEnvoySettings(path: string): Promise<EnvoySettings> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new EnvoySettingsInvalidError([{ path: "stepup_envoy", message: `${path} cannot be read as JSON: ${(err as Error).message}` }]);
  }
  return parseEnvoySettings(raw);
}

/**
 * The SDK's signal options for the edge settings: tokens, posture statements, zones, lists and
 * the workloads' key storage. Add geography and a behaviour store on top; leave trusted proxies
 * empty, since Envoy already resolved the client address.
 * @example
 * const signals = await Signals.create({ ...envoySignalsOptions(settings), behavior: { store } });
 */
export function envoySignalsOptions(settings: EnvoySettings): SignalsOptions {
  const { session, device, network, workloads } = settings;
  return {
    ...(session && {
      session: {
        keys: { jwks: session.jwks as never },
        issuer: session.issuer,
        audience: session.audience,
        tokenKind: session.token_kind ?? "access_token",
        ...(session.algorithms && { algorithms: session.algorithms }),
        clockToleranceSec: session.clock_tolerance ?? 60,
      },
    }),
    ...(device && {
      device: {
        keys: { jwks: device.jwks as never },
        issuer: device.issuer,
        ...(device.audience && { audience: device.audience }),
        ...(device.algorithms && { algorithms: device.algorithms }),
        ...(device.subject_claim && { subjectClaim: device.subject_claim }),
        header: device.header ?? "x-device-posture",
        maxAgeSec: device.max_age ?? 86_400,
        clockToleranceSec: device.clock_tolerance ?? 60,
      },
    }),
    network: {
      zones: { corporate: network?.corporate ?? [], known: network?.known ?? [] },
      lists: (network?.lists ?? []).map((list, i) => ({
        file: `stepup_envoy.network.lists[${i}]`,
        entries: list.cidrs,
        ...(list.reputation && { reputation: list.reputation }),
        ...(list.anonymizer && { anonymizer: list.anonymizer }),
      })),
    },
    workloads: { storage: workloads?.storage ?? null },
  };
}
