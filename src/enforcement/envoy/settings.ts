/**
 * The Envoy edge settings for the Node ext_authz server: validated against the same contract as
 * the data opa-envoy-plugin reads (`data.stepup_envoy`), and turned into the SDK's signal options,
 * so the two servers verify the same tokens and statements and classify the same networks.
 */
import { readFile } from "node:fs/promises";
import { indexAddresses, indexedEntries } from "../../contracts/address-index.js";
import { EnvoySettingsSchema, type EnvoyAddressList, type EnvoySettings } from "../../contracts/envoy.js";
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
 * The same settings with every address list (zones and lists) in the indexed form, which
 * opa-envoy-plugin looks up without a scan (`stepup envoy index-settings`); lists already indexed
 * stay as they are.
 */
export function indexEnvoySettings(settings: EnvoySettings): EnvoySettings {
  const { network } = settings;
  if (!network) return settings;
  const indexed = (list: EnvoyAddressList) => (Array.isArray(list) ? indexAddresses(list) : list);
  return {
    ...settings,
    network: {
      ...network,
      ...(network.corporate && { corporate: indexed(network.corporate) }),
      ...(network.known && { known: indexed(network.known) }),
      ...(network.lists && { lists: network.lists.map((list) => ({ ...list, cidrs: indexed(list.cidrs) })) }),
    },
  };
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
      zones: { corporate: addresses(network?.corporate), known: addresses(network?.known) },
      lists: (network?.lists ?? []).map((list, i) => ({
        file: `stepup_envoy.network.lists[${i}]`,
        entries: addresses(list.cidrs),
        ...(list.reputation && { reputation: list.reputation }),
        ...(list.anonymizer && { anonymizer: list.anonymizer }),
      })),
    },
    workloads: { storage: workloads?.storage ?? null },
  };
}

/** The entries of an address list, whichever form it is written in. */
function addresses(list: EnvoyAddressList | undefined): readonly string[] {
  if (list === undefined) return [];
  return Array.isArray(list) ? list : indexedEntries(list);
}
