import { HexEdgeError } from '@hexedge/protocol';
import type { ApiKeyRecord } from './key-store.ts';

const MS_PER_DAY = 86_400_000;

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

/** A key's token bucket and its count of the current UTC day. */
export interface BucketState {
  tokens: number;
  updatedAtMs: number;
  /** Days since the epoch (UTC) that `usedToday` counts. */
  day: number;
  usedToday: number;
}

type Limits = Pick<ApiKeyRecord, 'id' | 'ratePerSecond' | 'burst' | 'dailyQuota'>;

/**
 * One request against a key's bucket and daily quota at `nowMs`: the bucket after it and the decision,
 * or RATE_LIMITED (429) with the wait in `details.retryAfterMs`. `state` undefined is a full bucket.
 * A refusal changes nothing worth keeping (refill is a function of time), so callers store only on success.
 */
export function takeToken(state: BucketState | undefined, key: Limits, nowMs: number): { state: BucketState; decision: RateDecision } {
  const day = Math.floor(nowMs / MS_PER_DAY);
  const b = state ?? { tokens: key.burst, updatedAtMs: nowMs, day, usedToday: 0 };
  const usedToday = b.day === day ? b.usedToday : 0;
  const tokens = Math.min(key.burst, b.tokens + (Math.max(0, nowMs - b.updatedAtMs) / 1000) * key.ratePerSecond);
  if (usedToday >= key.dailyQuota) {
    const retryAfterMs = (day + 1) * MS_PER_DAY - nowMs;
    throw new HexEdgeError('RATE_LIMITED', `daily quota of ${key.dailyQuota} requests used up for key ${key.id}; resets at 00:00 UTC`, {
      retryAfterMs,
      limit: key.dailyQuota,
    });
  }
  if (tokens < 1) {
    const retryAfterMs = Math.ceil(((1 - tokens) / key.ratePerSecond) * 1000);
    throw new HexEdgeError('RATE_LIMITED', `rate limit of ${key.ratePerSecond} requests/s (burst ${key.burst}) exceeded for key ${key.id}`, {
      retryAfterMs,
      limit: key.burst,
    });
  }
  const next = { tokens: tokens - 1, updatedAtMs: Math.max(nowMs, b.updatedAtMs), day, usedToday: usedToday + 1 };
  return { state: next, decision: { limit: key.burst, remaining: Math.floor(next.tokens), resetSeconds: Math.ceil((key.burst - next.tokens) / key.ratePerSecond) } };
}

/** Requests counted in `state` on the UTC day of `nowMs`. */
export function usedOn(state: BucketState | undefined, nowMs: number): number {
  return state && state.day === Math.floor(nowMs / MS_PER_DAY) ? state.usedToday : 0;
}

/**
 * Meters API keys: RateLimiter in one process, the key's Durable Object on Workers
 * (gateway/src/objects/durable-key-store.ts, which also refuses a key revoked since it was looked up).
 */
export interface KeyLimiter {
  take(key: ApiKeyRecord): RateDecision | Promise<RateDecision>;
  usedToday(key: ApiKeyRecord): number | Promise<number>;
}

/**
 * Per-key token bucket (sustained rate + burst) and daily quota (UTC days). A refusal is
 * RATE_LIMITED (429) with the wait in `details.retryAfterMs`; the HTTP layer turns the decision into
 * `Retry-After` and `RateLimit-*` headers. State is in memory: a gateway restart refills buckets,
 * which errs on the side of serving.
 */
export class RateLimiter implements KeyLimiter {
  readonly #buckets = new Map<string, BucketState>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  take(key: ApiKeyRecord): RateDecision {
    const { state, decision } = takeToken(this.#buckets.get(key.id), key, this.#now());
    this.#buckets.set(key.id, state);
    return decision;
  }

  usedToday(key: Pick<ApiKeyRecord, 'id'>): number {
    return usedOn(this.#buckets.get(key.id), this.#now());
  }
}
