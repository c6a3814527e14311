import { describe, expect, it } from 'vitest';
import { DedupCache } from './dedup-cache.ts';

describe('DedupCache', () => {
  it('refuses a repeat while it is among the last maxEntries keys, and forgets the oldest first', () => {
    const cache = new DedupCache({ maxEntries: 1_000 });
    for (let i = 0; i < 5_000; i++) {
      expect(cache.firstTime(`d${i}`)).toBe(true);
      // A repeat (QoS 1 redelivery) neither counts as new nor refreshes the key's age.
      if (i % 10 === 0) expect(cache.firstTime(`d${i}`)).toBe(false);
      expect(cache.size).toBe(Math.min(i + 1, 1_000));
    }
    expect(cache.firstTime('d4000')).toBe(false);
    expect(cache.firstTime('d3999')).toBe(true); // forgotten: the 1 000 kept were d4000–d4999
    expect(cache.firstTime('d4001')).toBe(false);
    expect(cache.firstTime('d4000')).toBe(true); // the oldest, evicted by d3999's return
  });
});
