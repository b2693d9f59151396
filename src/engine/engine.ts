import type { Input } from "../contracts/input.js";

/** Something that evaluates the decision entrypoint of a stepup bundle. */
export interface Engine {
  /** The revision of the bundle the engine evaluates. */
  readonly revision: string;
  /** Evaluates the decision for a validated input; the result is untrusted until validated. */
  evaluate(input: Input): unknown;
  /**
   * Takes a caller's document, checking it against the input contract as it does: the
   * evaluation of it when it meets the contract, to be called before the engine takes another
   * document; undefined when it does not (the caller then validates it and uses `evaluate`).
   */
  takeChecked?(raw: unknown): (() => unknown) | undefined;
}

/** An engine that answers asynchronously, such as an OPA sidecar over REST. */
export interface AsyncEngine {
  /** The revision of the bundle behind the engine's last answer. */
  readonly revision: string;
  /** Evaluates the decision for a validated input; the result is untrusted until validated. */
  evaluate(input: Input): Promise<unknown>;
}
