/**
 * The SDK's front door for an OPA sidecar: the same decisions as `Stepup`, evaluated remotely.
 * Input validation, verdict validation, rendering and the fail-closed deny are the in-process
 * path's own (`concludeAsync`); what differs is where the verdict comes from, and that the code
 * catalog and the revision come from the bundle the sidecar serves.
 */
import type { Unchecked } from "./stepup.js";
import { randomUUID } from "node:crypto";
import type { Decision, Verdict } from "./contracts/decision.js";
import type { Input, InputDraft } from "./contracts/input.js";
import type { CodeEntry } from "./contracts/metadata.js";
import { concludeAsync, logFailure, type ConcludeHooks } from "./decision/conclude.js";
import type { RenderContext } from "./decision/render.js";
import { parseVerdict } from "./decision/verdict.js";
import { RemoteEngine, type Health, type RemoteEngineOptions } from "./engine/remote/remote.js";
import type { SidecarBundle } from "./engine/remote/sidecar-answer.js";
import { EngineBadResponseError } from "./errors.js";
import { parseInput } from "./input/validate.js";
import type { StepupOptions } from "./stepup.js";

export interface RemoteStepupOptions extends StepupOptions, RemoteEngineOptions {}

interface Catalog {
  readonly bundle: string;
  readonly revision: string;
  readonly codes: Readonly<Record<string, CodeEntry>>;
}

export class RemoteStepup {
  private catalog: Catalog;
  private refreshing: Promise<void> | undefined;
  private readonly hooks: ConcludeHooks;
  private readonly newId: () => string;

  private constructor(readonly engine: RemoteEngine, catalog: Catalog, options: StepupOptions) {
    this.catalog = catalog;
    this.hooks = { onError: options.onError ?? logFailure, onDecision: options.onDecision };
    this.newId = options.newId ?? randomUUID;
  }

  /**
   * Connects to a sidecar serving a stepup bundle and reads the bundle's code catalog from it.
   * Throws a typed error (`ERR_ENGINE_UNAVAILABLE`, `ERR_ENGINE_TIMEOUT`, `ERR_ENGINE_BAD_RESPONSE`)
   * when the sidecar cannot be reached or serves no stepup bundle.
   * @example
   * const stepup = await RemoteStepup.connect({ url: "http://127.0.0.1:8181", timeoutMs: 200 });
   * const decision = await stepup.decide(input);
   */
  static async connect(options: RemoteStepupOptions): Promise<RemoteStepup> {
    const engine = new RemoteEngine(options);
    try {
      return new RemoteStepup(engine, await discover(engine), options);
    } catch (err) {
      engine.close();
      throw err;
    }
  }

  /** The revision of the bundle behind the sidecar's latest answer. */
  get revision(): string {
    return this.catalog.revision;
  }

  /**
   * Decides on an input document. Rejects with `InputInvalidError` naming the field when the
   * input breaks the contract; when the sidecar fails or times out, resolves to the fail-closed
   * decision (deny, reason `engine.failure`, `error.code` set) and reports it to `onError`.
   */
  async decide(input: InputDraft): Promise<Decision>;
  async decide<Document>(document: Unchecked<Document>): Promise<Decision>;
  async decide(raw: unknown): Promise<Decision> {
    return this.decideInput(parseInput(raw));
  }

  /** Decides on an input that has already been validated with `parseInput`. */
  async decideInput(input: Input): Promise<Decision> {
    let answered = this.catalog;
    // The revision that decided is known only once the sidecar answers, so it is read at render time.
    const ctx: RenderContext = {
      decisionId: this.newId(),
      get revision() {
        return answered.revision;
      },
      get codes() {
        return answered.codes;
      },
    };
    return concludeAsync(input, ctx, this.hooks, async () => {
      const answer = await this.engine.decide(input);
      answered = await this.catalogFor(answer.revisions);
      return answer.result;
    });
  }

  /** The policy's raw verdict, without rendering; rejects with a typed error instead of failing closed. */
  async evaluate(input: Input): Promise<Verdict> {
    return parseVerdict(await this.engine.evaluate(input));
  }

  /** OPA's readiness (`GET /health?bundles`); never throws. */
  health(): Promise<Health> {
    return this.engine.health();
  }

  /** Closes the kept-alive connections to the sidecar. */
  close(): void {
    this.engine.close();
  }

  /**
   * The catalog for the bundle revision that answered. A new revision (the sidecar loaded another
   * bundle, or the same under another name) is read once; if reading it fails, the known catalog
   * renders the text and the decision still names the revision that made it.
   */
  private async catalogFor(revisions: Readonly<Record<string, string>>): Promise<Catalog> {
    const known = this.catalog;
    if (Object.keys(revisions).length === 0 || revisions[known.bundle] === known.revision) return known;
    this.refreshing ??= discover(this.engine)
      .then((fresh) => {
        this.catalog = fresh;
      })
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
    await this.refreshing;
    const current = this.catalog;
    const revision = revisions[current.bundle];
    return revision === undefined || revision === current.revision ? current : { ...current, revision };
  }
}

async function discover(engine: RemoteEngine): Promise<Catalog> {
  const stepupBundles = (await engine.bundles()).filter(
    (b): b is SidecarBundle & Required<Pick<SidecarBundle, "metadata">> => b.metadata !== undefined,
  );
  const chosen = stepupBundles.find((b) => b.metadata.wasm.entrypoint === engine.path) ?? stepupBundles[0];
  if (!chosen) throw new EngineBadResponseError(engine.url, 200, "the sidecar serves no bundle built by stepup");
  return { bundle: chosen.name, revision: chosen.revision, codes: chosen.metadata.codes };
}
