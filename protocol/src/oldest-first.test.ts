import { describe, expect, it } from 'vitest';
import { takeOldest, trimOldest } from './oldest-first.ts';

describe('oldest-first eviction with a kept cursor', () => {
  it('evicts in insertion order, a re-set key counting as new', () => {
    const m = new Map<string, number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(takeOldest(m)).toEqual(['a', 1]);
    m.delete('b');
    m.set('b', 20); // moved to the end
    m.set('d', 4);
    const evicted: string[] = [];
    trimOldest(m, 1, (k) => evicted.push(k));
    expect(evicted).toEqual(['c', 'b']);
    expect([...m.keys()]).toEqual(['d']);
  });

  it('matches a fresh iterator on a long random run of sets, deletes, re-sets and clears', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const kept = new Map<number, number>();
    const reference = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      const key = Math.floor(random() * 500);
      if (r < 0.6) {
        for (const m of [kept, reference]) {
          m.delete(key);
          m.set(key, i);
        }
      } else if (r < 0.8) {
        kept.delete(key);
        reference.delete(key);
      } else if (r < 0.999) {
        const expected = reference.size ? reference.entries().next().value! : undefined;
        if (expected) reference.delete(expected[0]);
        expect(takeOldest(kept)).toEqual(expected);
      } else {
        kept.clear();
        reference.clear();
      }
      if (i % 997 === 0) expect([...kept]).toEqual([...reference]);
    }
    expect(takeOldest(new Map())).toBeUndefined();
  });
});
