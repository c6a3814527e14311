/**
 * Seeded draws for the simulator. Every random choice in a run comes from one of these streams (and
 * Placement gets its own seeded stream), so a seed fixes the whole run.
 */
import { mulberry32 } from './places.ts';

export interface Rng {
  (): number;
}

export function createRng(seed: number): Rng {
  return mulberry32(seed >>> 0);
}

/** Derives an independent stream for one purpose, so adding draws to one part does not shift another. */
export function childSeed(seed: number, purpose: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function exponential(rand: Rng, mean: number): number {
  return -mean * Math.log(1 - rand());
}

/** Standard normal by Box–Muller (one of the pair is dropped: simplicity over speed). */
export function normal(rand: Rng): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Log-normal with the given mean (not median) and shape σ. */
export function logNormal(rand: Rng, mean: number, sigma: number): number {
  return mean * Math.exp(sigma * normal(rand) - (sigma * sigma) / 2);
}

/** Poisson count; Knuth's product method below 30, a rounded normal above (only counts matter there). */
export function poisson(rand: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}

export function pickWeighted<T extends { weight: number }>(rand: Rng, items: readonly T[]): T {
  let total = 0;
  for (const item of items) total += item.weight;
  let r = rand() * total;
  for (const item of items) if ((r -= item.weight) < 0) return item;
  return items[items.length - 1]!;
}
