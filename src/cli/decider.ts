/** The CLI's way to decide: in-process on a bundle, or through an OPA sidecar with `--sidecar`. */
import type { Decision } from "../contracts/decision.js";
import type { Input } from "../contracts/input.js";
import { UsageError } from "../errors.js";
import { defaultBundlePath } from "../paths.js";
import { RemoteStepup } from "../remote-stepup.js";
import { Stepup } from "../stepup.js";

export interface DeciderOptions {
  readonly bundle?: string;
  readonly sidecar?: string;
  readonly timeout?: string;
}

export interface Decider {
  readonly revision: string;
  decide(input: Input): Promise<Decision>;
  close(): void;
}

export async function openDecider(opts: DeciderOptions): Promise<Decider> {
  if (opts.sidecar === undefined) {
    const stepup = await Stepup.load(opts.bundle ?? defaultBundlePath());
    return { revision: stepup.revision, decide: async (input) => stepup.decideInput(input), close: () => {} };
  }
  if (opts.bundle !== undefined) throw new UsageError("--bundle and --sidecar exclude each other: the sidecar serves its own bundle");
  if (!/^https?:$/.test(protocolOf(opts.sidecar))) {
    throw new UsageError(`--sidecar takes an http or https URL, not ${opts.sidecar}`);
  }
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new UsageError(`--timeout must be a whole number of milliseconds, not ${opts.timeout}`);
  }
  const stepup = await RemoteStepup.connect({ url: opts.sidecar, timeoutMs });
  return {
    get revision() {
      return stepup.revision;
    },
    decide: (input) => stepup.decideInput(input),
    close: () => stepup.close(),
  };
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return "";
  }
}
