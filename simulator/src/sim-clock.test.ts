import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';
import { SimClock, settle, type TimerEvent } from './sim-clock.ts';

describe('SimClock', () => {
  it('schedules timers as queue events at now + delay, never in the past, and cancels them', () => {
    let nowMs = 1_000;
    const queue = new EventQueue<TimerEvent>();
    const clock = new SimClock({ now: () => nowMs, schedule: (t) => queue.push(t) });
    const fired: string[] = [];
    const late = clock.setTimeout(() => fired.push('late'), 500);
    clock.setTimeout(() => fired.push('soon'), 20);
    const past = clock.setTimeout(() => fired.push('past'), -5);
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 100);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(undefined);
    expect(past.atMs).toBe(1_000);
    expect(late.atMs).toBe(1_500);
    for (let ev = queue.pop(); ev; ev = queue.pop()) {
      nowMs = ev.atMs;
      if (!ev.cancelled) ev.fire();
    }
    expect(fired).toEqual(['past', 'soon', 'late']);
    expect(clock.now()).toBe(1_500);
  });

  it('settle runs promise reactions chained many deep before it returns', async () => {
    let depth = 0;
    let p: Promise<void> = Promise.resolve();
    for (let i = 0; i < 100; i++) p = p.then(() => void depth++);
    await settle();
    expect(depth).toBe(100);
  });
});
