import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_MS } from './latency.ts';
import { FAILURE_PENALTY_MS, PEAK_EWMA_DECAY_MS, PeakEwma, ServiceTimes } from './peak-ewma.ts';

describe('PeakEwma', () => {
  it('jumps straight up to a slow sample and decays back with elapsed time', () => {
    const ewma = new PeakEwma({ initialMs: 20, nowMs: 0 });
    ewma.observe(200, 0);
    expect(ewma.getMs(0, 20)).toBe(200);
    // One decay constant later, e^-1 of the excess is left.
    expect(ewma.getMs(PEAK_EWMA_DECAY_MS, 20)).toBeCloseTo(20 + 180 / Math.E, 6);
    expect(ewma.getMs(10 * PEAK_EWMA_DECAY_MS, 20)).toBeCloseTo(20, 1);
  });

  it('blends a faster sample by the time since the last one', () => {
    const ewma = new PeakEwma({ initialMs: 100, nowMs: 0 });
    ewma.observe(10, 0); // no time passed: weight 1 on the old cost
    expect(ewma.getMs(0, 0)).toBe(100);
    ewma.observe(10, PEAK_EWMA_DECAY_MS);
    expect(ewma.getMs(PEAK_EWMA_DECAY_MS, 0)).toBeCloseTo(100 / Math.E + 10 * (1 - 1 / Math.E), 6);
  });

  it('counts a failure as at least the penalty and at least twice the current cost', () => {
    const ewma = new PeakEwma({ initialMs: 20, nowMs: 0 });
    ewma.observeFailure(5, 0);
    expect(ewma.getMs(0, 20)).toBe(FAILURE_PENALTY_MS);
    ewma.observeFailure(5, 0);
    expect(ewma.getMs(0, 20)).toBe(2 * FAILURE_PENALTY_MS);
  });

  it('ServiceTimes falls back to the node-reported time and forgets evicted nodes', () => {
    const times = new ServiceTimes();
    expect(times.estimateMs({ nodeId: 'n', model: 'm', reportedMs: 70, nowMs: 0 })).toBe(70);
    times.record({ nodeId: 'n', model: 'm', latencyMs: 90, ok: true, nowMs: 0, reportedMs: 70 });
    expect(times.estimateMs({ nodeId: 'n', model: 'm', reportedMs: 70, nowMs: 0 })).toBe(90);
    times.forgetNode('n');
    expect(times.estimateMs({ nodeId: 'n', model: 'm', reportedMs: 70, nowMs: 0 })).toBe(70);
  });

  it('never believes a node that reports itself faster than the gateway measured it (a 0 ms black hole)', () => {
    const times = new ServiceTimes();
    // Unmeasured: a claim below the default is not believed.
    expect(times.estimateMs({ nodeId: 'liar', model: 'm', reportedMs: 0, nowMs: 0 })).toBe(DEFAULT_SERVICE_MS);
    // Measured at 80 ms while it keeps claiming 0: between samples the estimate settles on the measurement, not the claim.
    for (let t = 0; t < 10; t++) times.record({ nodeId: 'liar', model: 'm', latencyMs: 80, ok: true, nowMs: t * 100, reportedMs: 0 });
    expect(times.estimateMs({ nodeId: 'liar', model: 'm', reportedMs: 0, nowMs: 1_000 + 3 * PEAK_EWMA_DECAY_MS })).toBeGreaterThan(50);
    // A node that only ever failed decays back to the default, never to its 0 ms claim.
    times.record({ nodeId: 'hole', model: 'm', latencyMs: 1, ok: false, nowMs: 0, reportedMs: 0 });
    expect(times.estimateMs({ nodeId: 'hole', model: 'm', reportedMs: 0, nowMs: 10 * PEAK_EWMA_DECAY_MS })).toBeGreaterThanOrEqual(DEFAULT_SERVICE_MS);
  });
});
