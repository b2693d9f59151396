/** Where the package's own files are, whether the code runs from src/ (tests) or dist/ (the CLI). */
import { existsSync } from "node:fs";
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

/** The bundle the CLI uses when none is named: $STEPUP_BUNDLE, else the one `make build` writes. */
export function defaultBundlePath(): string {
  return process.env.STEPUP_BUNDLE ?? `${packageRoot()}bundles/stepup.tar.gz`;
}
