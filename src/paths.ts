/** Where the package's own files are, whether the code runs from src/ (tests) or dist/ (the CLI). */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the package's package.json. */
export function packageRoot(): string {
  let dir = new URL(".", import.meta.url);
  while (!existsSync(new URL("package.json", dir))) {
    const parent = new URL("../", dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  return fileURLToPath(dir);
}

/**
 * The bundle used when none is named (`Stepup.loadDefault`, the CLI): `$STEPUP_BUNDLE`, else the
 * one shipped in the package (`stepup/bundles/stepup.tar.gz`, which `make build` writes).
 */
export function defaultBundlePath(): string {
  return process.env.STEPUP_BUNDLE ?? `${packageRoot()}bundles/stepup.tar.gz`;
}

/**
 * The user's cache folder for stepup, for what the CLI keeps between runs (the bundle store):
 * `$XDG_CACHE_HOME/stepup`, else the platform's cache folder. Never inside the package, which
 * an install may make read-only and an upgrade replaces.
 */
export function cacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, "stepup");
  if (process.platform === "darwin") return join(homedir(), "Library", "Caches", "stepup");
  if (process.platform === "win32") return join(process.env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "stepup", "Cache");
  return join(homedir(), ".cache", "stepup");
}
