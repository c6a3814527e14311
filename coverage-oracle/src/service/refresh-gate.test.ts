import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshGate } from './refresh-gate.ts';

/** A refresh the test finishes by hand: how many started, and a way to end the one in flight. */
function manualRefresh() {
  const ends: Array<() => void> = [];
  const refresh = vi.fn(() => new Promise<void>((resolve) => ends.push(resolve)));
  return { refresh, finish: () => ends.shift()?.() };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RefreshGate', () => {
  it('concurrent on-demand asks share one refresh', async () => {
    const { refresh, finish } = manualRefresh();
    const gate = new RefreshGate({ refresh, minIntervalMs: 2_000, nowMs: () => Date.now() });
    const asks = Array.from({ length: 50 }, () => gate.request());
    expect(refresh).toHaveBeenCalledTimes(1);
    finish();
    expect(await Promise.all(asks)).toEqual(Array(50).fill(true));
    expect(gate.stats).toEqual({ started: 1, joined: 49, limited: 0 });
  });

  it('refuses an on-demand ask at once within minIntervalMs of the last start, and allows one after', async () => {
    const { refresh, finish } = manualRefresh();
    const gate = new RefreshGate({ refresh, minIntervalMs: 2_000, nowMs: () => Date.now() });
    const first = gate.request();
    finish();
    await first;
    vi.advanceTimersByTime(1_999);
    expect(await gate.request()).toBe(false);
    expect(refresh).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    const next = gate.request();
    expect(refresh).toHaveBeenCalledTimes(2);
    finish();
    expect(await next).toBe(true);
    expect(gate.stats).toEqual({ started: 2, joined: 0, limited: 1 });
  });

  it('a flood of asks from made-up reporters costs one refresh per minIntervalMs', async () => {
    const refresh = vi.fn(async () => {});
    const gate = new RefreshGate({ refresh, minIntervalMs: 2_000, nowMs: () => Date.now() });
    // 10 s of asks, 100 every 10 ms (10 000 in all).
    for (let t = 0; t < 10_000; t += 10) {
      await Promise.all(Array.from({ length: 100 }, () => gate.request()));
      vi.advanceTimersByTime(10);
    }
    expect(refresh).toHaveBeenCalledTimes(5);
  });

  it('run (the periodic loop, a gateway just added) reads after the refresh in flight, not rate-limited', async () => {
    const { refresh, finish } = manualRefresh();
    const gate = new RefreshGate({ refresh, minIntervalMs: 60_000, nowMs: () => Date.now() });
    const onDemand = gate.request();
    const periodic = gate.run();
    const periodic2 = gate.run();
    finish();
    await onDemand;
    // The one in flight began before run was called: run starts its own, and both runs share it.
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(2));
    finish();
    await Promise.all([periodic, periodic2]);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('a failed refresh frees the gate; an ask never rejects', async () => {
    const refresh = vi.fn(async () => {
      throw new Error('gateway down');
    });
    const gate = new RefreshGate({ refresh, minIntervalMs: 100, nowMs: () => Date.now() });
    expect(await gate.request()).toBe(true);
    vi.advanceTimersByTime(100);
    expect(await gate.request()).toBe(true);
    expect(refresh).toHaveBeenCalledTimes(2);
  });
});
