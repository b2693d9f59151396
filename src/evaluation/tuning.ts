/**
 * A candidate tuning: the bundle's own data with some settings changed (`weights.device.unattested=25`),
 * checked against the config contract like any bundle's data. The module stays the bundle's: only
 * data changes, as when a team tunes a policy without recompiling it.
 */
import type { Bundle } from "../bundle/load.js";
import { ConfigSchema } from "../contracts/config.js";
import { ConfigInvalidError } from "../errors.js";
import { toIssues } from "../contracts/issues.js";

/**
 * The bundle with each `path=value` set in its config. A path walks the config's keys, a key may
 * itself hold dots (signal codes do); the value is JSON, or text when it is not.
 */
export function withSettings(bundle: Bundle, settings: readonly string[]): Bundle {
  const data = structuredClone(bundle.data) as { stepup?: { config?: Record<string, unknown> } };
  const config = data.stepup?.config;
  if (!config) throw new ConfigInvalidError([{ path: "stepup.config", message: "the bundle has no config to tune" }]);
  for (const setting of settings) {
    const eq = setting.indexOf("=");
    if (eq <= 0) throw new ConfigInvalidError([{ path: setting, message: "expected path=value" }]);
    assign(config, setting.slice(0, eq).split("."), parseValue(setting.slice(eq + 1)), setting.slice(0, eq));
  }
  const checked = ConfigSchema.safeParse(config);
  if (!checked.success) throw new ConfigInvalidError(toIssues(checked.error, "config"));
  return { ...bundle, data: data as Record<string, unknown> };
}

function assign(node: Record<string, unknown>, parts: readonly string[], value: unknown, path: string): void {
  // The longest run of parts that names an existing key, so "weights.device.unattested" finds the key "device.unattested".
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join(".");
    if (!Object.hasOwn(node, key)) continue;
    if (take === parts.length) {
      node[key] = value;
      return;
    }
    const child = node[key];
    if (typeof child === "object" && child !== null && !Array.isArray(child)) return assign(child as Record<string, unknown>, parts.slice(take), value, path);
  }
  throw new ConfigInvalidError([{ path, message: "no such setting in the bundle's config" }]);
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
