import { describe, expect, it } from 'vitest';
import { ATTEMPT_TIMEOUT_FLOOR_MS, DEFAULT_HEDGE_DELAY_MS, LatencyTracker } from './latency-tracker.ts';

/** The p95 as the tracker defined it before it cached and sorted in place: the last 64 samples, sorted, index ⌈0.95 n⌉ − 1. */
function p95Of(samples: readonly number[]): number {
  const recent = samples.slice(-64).sort((a, b) => a - b);
  return recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.95) - 1)]!;
}

describe('LatencyTracker', () => {
  it('answers the default hedge delay and half the deadline until a node has 8 samples', () => {
    const t = new LatencyTracker();
    for (let i = 0; i < 7; i++) t.record('a', 500);
    expect(t.p95Ms('a')).toBe(DEFAULT_HEDGE_DELAY_MS);
    expect(t.attemptTimeoutMs('a', 3_000)).toBe(1_500);
    t.record('a', 500);
    expect(t.p95Ms('a')).toBe(500);
    expect(t.attemptTimeoutMs('a', 3_000)).toBe(2_500);
    expect(t.p95Ms('unknown')).toBe(DEFAULT_HEDGE_DELAY_MS);
  });

  it('gives the p95 of the last 64 samples after every new one (a cached value never outlives a sample)', () => {
    const t = new LatencyTracker();
    const samples: number[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 200;
    for (let i = 0; i < 300; i++) {
      const ms = i === 150 ? 10_000 : random();
      samples.push(ms);
      t.record('n', ms);
      if (samples.length >= 8) {
        expect(t.p95Ms('n')).toBe(p95Of(samples));
        expect(t.p95Ms('n')).toBe(p95Of(samples)); // asked twice per request: the same answer
      }
    }
    // Nodes do not share samples or cached answers.
    for (let i = 0; i < 8; i++) t.record('m', 1);
    expect(t.p95Ms('m')).toBe(1);
    expect(t.p95Ms('n')).toBe(p95Of(samples));
    expect(t.attemptTimeoutMs('m', 3_000)).toBe(ATTEMPT_TIMEOUT_FLOOR_MS);
    t.forget('n');
    expect(t.p95Ms('n')).toBe(DEFAULT_HEDGE_DELAY_MS);
  });
});
