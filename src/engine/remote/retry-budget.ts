/**
 * A retry budget shared by every call of one remote engine, after gRPC's retry throttling: each
 * failure takes a token, each success gives back a fraction of one, and retries are allowed only
 * while more than half the tokens are left. When the sidecar is down, retries therefore stop after
 * a few failures instead of doubling the load, and come back as successes return.
 */
import { ConfigInvalidError } from "../../errors.js";

export interface RetryBudgetOptions {
  /** Tokens when full (default 10): about `maxTokens / 2` consecutive failures still retry. */
  readonly maxTokens: number;
  /** Tokens a success gives back (default 0.1): one retry earned per ten successes. */
  readonly tokenRatio: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = { maxTokens: 10, tokenRatio: 0.1 };

export class RetryBudget {
  private tokens: number;

  constructor(private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET) {
    if (!(options.maxTokens > 0) || !(options.tokenRatio > 0)) {
      throw new ConfigInvalidError([{ path: "retryBudget", message: "maxTokens and tokenRatio must be positive" }]);
    }
    this.tokens = options.maxTokens;
  }

  /** Whether a failed call may be retried now. */
  get canRetry(): boolean {
    return this.tokens > this.options.maxTokens / 2;
  }

  /** Tokens left, for metrics and tests. */
  get available(): number {
    return this.tokens;
  }

  onSuccess(): void {
    this.tokens = Math.min(this.options.maxTokens, this.tokens + this.options.tokenRatio);
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }
}
