import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY, parseRetryAfterMs } from './retry.ts';

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-1', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('backoff', () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };
  it('grows exponentially with full jitter, capped', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffMs({ attempt, policy, random: () => 1 }))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(backoffMs({ attempt: 3, policy, random: () => 0.5 })).toBe(200);
    expect(backoffMs({ attempt: 3, policy, random: () => 0 })).toBe(0);
  });

  it('never comes back sooner than Retry-After, with a little jitter on top', () => {
    expect(backoffMs({ attempt: 1, policy, retryAfterMs: 2_000, random: () => 0 })).toBe(2_000);
    expect(backoffMs({ attempt: 1, policy, retryAfterMs: 2_000, random: () => 1 })).toBe(2_100);
    // Past the cap too: the gateway said when.
    expect(backoffMs({ attempt: 9, policy, retryAfterMs: 5_000, random: () => 0 })).toBe(5_000);
  });
});
