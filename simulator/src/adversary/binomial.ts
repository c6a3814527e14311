import type { Rng } from '../random.ts';

/** Binomial(n, q): by counting below 64 trials, else its normal approximation (only counts matter there). */
export function binomial(rand: Rng, n: number, q: number): number {
  if (n < 64) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rand() < q) k++;
    return k;
  }
  const mean = n * q;
  const sd = Math.sqrt(mean * (1 - q));
  const u = 1 - rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return Math.min(n, Math.max(0, Math.round(mean + sd * z)));
}
