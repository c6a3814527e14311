import { describe, expect, it } from 'vitest';
import { fftInPlace } from './fft.ts';
import { createRng } from './prng.ts';

describe('fftInPlace', () => {
  it('equals the direct DFT', () => {
    const n = 64;
    const rng = createRng(5);
    const x = Array.from({ length: n }, () => rng.normal());
    const re = Float64Array.from(x);
    const im = new Float64Array(n);
    fftInPlace(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        sr += x[t] * Math.cos((-2 * Math.PI * k * t) / n);
        si += x[t] * Math.sin((-2 * Math.PI * k * t) / n);
      }
      expect(re[k]).toBeCloseTo(sr, 10);
      expect(im[k]).toBeCloseTo(si, 10);
    }
  });

  it('rejects lengths that are not powers of two', () => {
    expect(() => fftInPlace(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
  });
});
