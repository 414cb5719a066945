/**
 * Exponential backoff with full jitter: after the n-th failure in a row (n = 1, 2, ...) wait a
 * random time in [0, min(cap, base * 2^(n-1))). A success resets it.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  /** Failures in a row so far. */
  failures = 0;

  constructor({ baseMs = 500, capMs = 30_000, random = Math.random }: BackoffOptions = {}) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
  }

  /** The ceiling of the n-th delay (n from 1). */
  ceiling(n: number): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(Math.max(n - 1, 0), 30));
  }

  /** Counts a failure and answers how long to wait before the next attempt (ms). */
  next(): number {
    this.failures++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(r * this.ceiling(this.failures));
  }

  reset(): void {
    this.failures = 0;
  }
}

/** The client's backoff settings (ClientOptions): first ceiling 500 ms, cap 30 s unless given. */
export const clientBackoff = (options: { backoffBaseMs?: number; backoffCapMs?: number; random?: () => number }): BackoffOptions => ({
  baseMs: options.backoffBaseMs ?? 500,
  capMs: options.backoffCapMs ?? 30_000,
  random: options.random ?? Math.random,
});
