import type { Input } from "../contracts/input.js";
import type { Fallback } from "./inprocess/fallbacks.js";

/** Something that evaluates the decision entrypoint of a stepup bundle. */
export interface Engine {
  /** The revision of the bundle the engine evaluates. */
  readonly revision: string;
  /** Evaluates the decision for a validated input; the result is untrusted until validated. */
  evaluate(input: Input): unknown;
  /**
   * Takes a caller's document, reading it once and checking it against the input contract as it
   * does: when it meets the contract, the input as read and its evaluation, to be called before
   * the engine takes another document; undefined when it does not (the caller then reads it into
   * a snapshot, validates that and uses `evaluate`). A `parsed` document (from JSON, or cloned
   * from another thread) is data already: nothing in it can answer twice.
   */
  takeChecked?(raw: unknown, parsed: boolean): TakenDocument | undefined;
  /** What the engine runs and how, when it says (the in-process engine does). */
  readonly info?: EngineInfo;
}

/** A caller's document an engine took (`Engine.takeChecked`): the input as it read it, and its evaluation. */
export interface TakenDocument {
  /** The input normalized, or checked and normalized when something reads all of it (the decision reads its target alone). */
  readonly input: Input | { readonly target: Input["target"]; normalized(): Input };
  /** The document's evaluation, to be called before the engine takes another document; the result is untrusted until validated. */
  readonly evaluate: () => unknown;
}

/** What the in-process engine runs and how: `Stepup.engineInfo`. */
export interface EngineInfo {
  /** The OPA that compiled the module, as the bundle's manifest records it (undefined when it does not). */
  readonly opaVersion: string | undefined;
  /** What optimized OPA's module at build time, e.g. "binaryen 132.0.0 -O2" (undefined: as OPA built it). */
  readonly optimizer: string | undefined;
  /** The rewrites of OPA's runtime the module was built with (src/wasm/rewrite/names.ts). */
  readonly rewrites: readonly string[];
  readonly fastPaths: boolean;
  /** The entrypoint evaluated. */
  readonly entrypoint: string;
  /**
   * How inputs reach the policy: written as OPA's values (`values`, nothing to parse), as JSON by
   * the compiled writer (`json-writer`), or serialized as JSON (`json`); both JSON forms are
   * parsed by OPA.
   */
  readonly input: "values" | "json-writer" | "json";
  /** How results come back: read from memory (`value-reader`), or as OPA's JSON (`json`). */
  readonly result: "value-reader" | "json";
  /** The fallbacks taken so far (each reported once). */
  readonly fallbacks: readonly Fallback[];
}

/** An engine that answers asynchronously, such as an OPA sidecar over REST. */
export interface AsyncEngine {
  /** The revision of the bundle behind the engine's last answer. */
  readonly revision: string;
  /** Evaluates the decision for a validated input; the result is untrusted until validated. */
  evaluate(input: Input): Promise<unknown>;
}
