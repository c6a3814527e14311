/**
 * When and how long to wait before trying a call again. Only calls that are safe to repeat are
 * retried: reads, PUT and DELETE (idempotent by HTTP's definition), and POST /v1/infer with a request
 * `id` (the gateway answers a repeated id with the first answer, never a second inference). Retried:
 * 429 and 503 (the gateway's "slow down" and "busy", both with Retry-After) and failures to reach it.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retries). */
  maxAttempts: number;
  /** The first backoff's ceiling; each attempt doubles it (full jitter), up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** HTTP statuses worth another try. */
  retryOn: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  retryOn: [429, 503],
};

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or
 * unreadable. A date in the past is 0.
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month (`Wed, 21 Oct 2015 07:28:00 GMT`); anything else is unreadable.
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined;
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - nowMs);
}

/**
 * The wait before attempt `attempt + 1`: exponential backoff with full jitter (a random share of
 * base·2^(attempt−1), capped), and never sooner than the gateway's Retry-After; a little jitter on top
 * of Retry-After keeps many clients told the same second from all coming back at once.
 */
export function backoffMs(options: {
  attempt: number;
  policy: RetryPolicy;
  retryAfterMs?: number;
  random?: () => number;
}): number {
  const { attempt, policy } = options;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  if (options.retryAfterMs !== undefined)
    return options.retryAfterMs + Math.round(random() * policy.baseDelayMs);
  return Math.round(random() * ceiling);
}
