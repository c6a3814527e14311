import { describe, expect, it } from 'vitest';
import { RecentMatches, SHA256_HEX_PATTERN } from './fast-check.ts';

describe('RecentMatches (a pattern test answered from recent matches)', () => {
  it('answers as the pattern for every value, remembered twins included', () => {
    const recent = new RecentMatches(SHA256_HEX_PATTERN, 3);
    const good = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(64));
    const values: unknown[] = [
      ...good,
      ...good.map((g) => g.toUpperCase()),
      ...good.map((g) => g + 'a'),
      ...good.map((g) => g.slice(1)),
      ...good.map((g) => `${g.slice(0, 63)}g`),
      '',
      7,
      null,
      undefined,
      { toString: () => good[0] },
      [good[0]],
    ];
    // Twice over, in both orders: every answer from the cache or the pattern is the pattern's.
    for (const order of [values, [...values].reverse(), values])
      for (const v of order) {
        const copy = typeof v === 'string' ? [...v].join('') : v; // an equal string, another object
        expect(recent.test(copy)).toBe(typeof v === 'string' && SHA256_HEX_PATTERN.test(v));
      }
  });
});
