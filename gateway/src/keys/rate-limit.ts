import { HexEdgeError } from '@hexedge/protocol';
import type { ApiKeyRecord } from './key-store.ts';

const MS_PER_DAY = 86_400_000;

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

/**
 * Per-key token bucket (sustained rate + burst) and daily quota (UTC days). A refusal is
 * RATE_LIMITED (429) with the wait in `details.retryAfterMs`; the HTTP layer turns the decision into
 * `Retry-After` and `RateLimit-*` headers. State is in memory: a gateway restart refills buckets,
 * which errs on the side of serving.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAtMs: number; day: number; usedToday: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  take(key: ApiKeyRecord): RateDecision {
    const now = this.#now();
    const day = Math.floor(now / MS_PER_DAY);
    let b = this.#buckets.get(key.id);
    if (!b) this.#buckets.set(key.id, (b = { tokens: key.burst, updatedAtMs: now, day, usedToday: 0 }));
    if (b.day !== day) {
      b.day = day;
      b.usedToday = 0;
    }
    b.tokens = Math.min(key.burst, b.tokens + ((now - b.updatedAtMs) / 1000) * key.ratePerSecond);
    b.updatedAtMs = now;
    if (b.usedToday >= key.dailyQuota) {
      const retryAfterMs = (day + 1) * MS_PER_DAY - now;
      throw new HexEdgeError('RATE_LIMITED', `daily quota of ${key.dailyQuota} requests used up for key ${key.id}; resets at 00:00 UTC`, {
        retryAfterMs,
        limit: key.dailyQuota,
      });
    }
    if (b.tokens < 1) {
      const retryAfterMs = Math.ceil(((1 - b.tokens) / key.ratePerSecond) * 1000);
      throw new HexEdgeError('RATE_LIMITED', `rate limit of ${key.ratePerSecond} requests/s (burst ${key.burst}) exceeded for key ${key.id}`, {
        retryAfterMs,
        limit: key.burst,
      });
    }
    b.tokens -= 1;
    b.usedToday += 1;
    return { limit: key.burst, remaining: Math.floor(b.tokens), resetSeconds: Math.ceil((key.burst - b.tokens) / key.ratePerSecond) };
  }

  usedToday(keyId: string): number {
    const b = this.#buckets.get(keyId);
    return b && b.day === Math.floor(this.#now() / MS_PER_DAY) ? b.usedToday : 0;
  }
}
