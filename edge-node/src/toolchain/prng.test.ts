import { describe, expect, it } from 'vitest';
import { createRng, shuffledIndices } from './prng.ts';

const draw = (seed: number, n: number) => Array.from({ length: n }, createRng(seed).next);

describe('createRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
    expect(draw(42, 100)).not.toEqual(draw(43, 100));
  });

  it('pins the first outputs, so generated data (and content ids) cannot change silently', () => {
    expect(draw(1, 3).map((v) => v * 2 ** 32)).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('has the moments of its distributions', () => {
    const rng = createRng(7);
    const n = 20000;
    let u = 0;
    let z = 0;
    let z2 = 0;
    let p = 0;
    for (let i = 0; i < n; i++) {
      u += rng.next();
      const g = rng.normal();
      z += g;
      z2 += g * g;
      p += rng.poisson(2.5);
    }
    expect(u / n).toBeCloseTo(0.5, 2);
    expect(z / n).toBeCloseTo(0, 1);
    expect(z2 / n).toBeCloseTo(1, 1);
    expect(p / n).toBeCloseTo(2.5, 1);
  });

  it('shuffles into a permutation', () => {
    const order = shuffledIndices(50, createRng(3));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
