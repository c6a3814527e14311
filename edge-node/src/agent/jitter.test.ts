import { describe, expect, it } from 'vitest';
import { FIRST_RETRY_MS, heartbeatWaitMs, MAX_RETRY_MS, retryWaitMs, spreadMs } from './jitter.ts';

describe('jitter of a node’s calls to its gateway', () => {
  it('retries with a doubling step, capped, each wait between half the step and the whole', () => {
    for (const [attempt, stepMs] of [
      [0, FIRST_RETRY_MS],
      [1, 2 * FIRST_RETRY_MS],
      [3, 8 * FIRST_RETRY_MS],
      [20, MAX_RETRY_MS],
      [10_000, MAX_RETRY_MS],
    ] as const) {
      expect(retryWaitMs(attempt, () => 0)).toBe(stepMs / 2);
      expect(retryWaitMs(attempt, () => 1)).toBe(stepMs);
    }
  });

  it('spreads a fleet failing at the same moment over the step', () => {
    const waits = Array.from({ length: 1000 }, () => retryWaitMs(4));
    const stepMs = 16 * FIRST_RETRY_MS;
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(stepMs / 2);
    expect(Math.max(...waits)).toBeLessThanOrEqual(stepMs);
    // Ten equal slices of the spread each get a share (a synchronised fleet would fill one).
    const slices = new Set(waits.map((w) => Math.min(9, Math.floor(((w - stepMs / 2) / (stepMs / 2)) * 10))));
    expect(slices.size).toBe(10);
  });

  it('beats up to 10 % early, never late', () => {
    expect(heartbeatWaitMs(10_000, () => 0)).toBe(10_000);
    expect(heartbeatWaitMs(10_000, () => 1)).toBe(9_000);
    for (let i = 0; i < 100; i++) expect(heartbeatWaitMs(10_000)).toBeLessThanOrEqual(10_000);
  });

  it('spreads a periodic wait both ways', () => {
    expect(spreadMs(60_000, 0.2, () => 0)).toBe(48_000);
    expect(spreadMs(60_000, 0.2, () => 0.5)).toBe(60_000);
    expect(spreadMs(60_000, 0.2, () => 1)).toBe(72_000);
  });
});
