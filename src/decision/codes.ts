import type { CodeEntry } from "../contracts/metadata.js";

/** Codes the SDK itself gives, beside those the bundle's rules carry in their metadata. */
export const SDK_CODES: Readonly<Record<string, CodeEntry>> = {
  "engine.failure": {
    title: "No decision",
    message: "The policy could not decide, so the request is denied (fail closed).",
    controls: ["PR.AA-05"],
  },
};

/** A code's entry, or a plain one naming the code when the bundle does not describe it. */
export function describeCode(code: string, codes: Readonly<Record<string, CodeEntry>>): CodeEntry {
  return codes[code] ?? SDK_CODES[code] ?? { title: code, message: `No description for ${code} in the bundle.`, controls: [] };
}
