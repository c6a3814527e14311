import { HexEdgeError } from '@hexedge/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forwardWithFailover, NodeFault } from './forward.ts';
import type { WalkClock } from './walk-clock.ts';

/** A clock that moves only when told: timers fire in due order, and their promise reactions settle before the next. */
class ManualClock implements WalkClock {
  nowMs = 0;
  readonly #timers: Array<{ atMs: number; fn: () => void; cancelled: boolean }> = [];

  now(): number {
    return this.nowMs;
  }
  setTimeout(fn: () => void, delayMs: number): unknown {
    const timer = { atMs: this.nowMs + delayMs, fn, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    if (handle) (handle as { cancelled: boolean }).cancelled = true;
  }
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    const until = this.nowMs + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const due = this.#timers
        .filter((t) => !t.cancelled && t.atMs <= until)
        .sort((a, b) => a.atMs - b.atMs)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.nowMs = due.atMs;
      due.fn();
    }
    this.nowMs = until;
    await new Promise((r) => setImmediate(r));
  }
}

/** A node that answers after `ms` on the clock (or never, for Infinity); an abort rejects it. */
const answerAfter = (
  clock: WalkClock,
  ms: number,
  value: string,
  o: { signal: AbortSignal; fault?: boolean },
) =>
  new Promise<string>((resolve, reject) => {
    const timer = Number.isFinite(ms)
      ? clock.setTimeout(() => (o.fault ? reject(new NodeFault({ nodeId: String(value), kind: "refused" })) : resolve(value)), ms)
      : undefined;
    o.signal.addEventListener('abort', () => (clock.clearTimeout(timer), reject(new Error('aborted'))), {
      once: true,
    });
  });

describe('forwardWithFailover on an injected clock', () => {
  afterEach(() => vi.useRealTimers());

  it('cuts a silent node at its attempt timeout on the injected clock and reports simulated latencies', async () => {
    const clock = new ManualClock();
    const outcomes: Array<{ node: string; ok: boolean; latencyMs: number }> = [];
    const signals = new Map<string, AbortSignal>();
    const walk = forwardWithFailover({
      candidates: ['silent', 'good'],
      nodeIdOf: (c) => c,
      maxAttempts: 3,
      deadlineMs: 60_000,
      hedge: false,
      hedgeDelayMs: () => 50,
      attemptTimeoutMs: () => 1_500,
      attempt: (c, signal) => (
        signals.set(c, signal),
        answerAfter(clock, c === 'silent' ? Infinity : 40, c, { signal })
      ),
      onOutcome: (c, o) => outcomes.push({ node: c, ...o }),
      clock,
    });
    let settled = false;
    void walk.finally(() => (settled = true));
    await clock.advance(1_499);
    expect(settled).toBe(false);
    expect(signals.has('good')).toBe(false);
    await clock.advance(1);
    expect(signals.get('silent')!.aborted).toBe(true);
    expect(signals.has('good')).toBe(true);
    await clock.advance(40);
    expect(await walk).toEqual({ result: 'good', candidate: 'good', attempts: 2 });
    expect(outcomes).toEqual([
      { node: 'silent', ok: false, latencyMs: 1_500, fault: expect.objectContaining({ nodeId: 'silent', kind: 'timeout' }) },
      { node: 'good', ok: true, latencyMs: 40 },
    ]);
    // The deadline timer is cancelled with the walk: nothing is left to fire.
    expect(clock.pending).toBe(0);
  });

  it('hedges after the hedge delay on the injected clock; the first answer wins and the loser is aborted', async () => {
    const clock = new ManualClock();
    const signals = new Map<string, AbortSignal>();
    const walk = forwardWithFailover({
      candidates: ['slow', 'fast'],
      nodeIdOf: (c) => c,
      maxAttempts: 3,
      deadlineMs: 10_000,
      hedge: true,
      hedgeDelayMs: (c) => (c === 'slow' ? 80 : 1_000),
      attemptTimeoutMs: () => 5_000,
      attempt: (c, signal) => (
        signals.set(c, signal),
        answerAfter(clock, c === 'slow' ? 3_000 : 30, c, { signal })
      ),
      clock,
    });
    await clock.advance(79);
    expect([...signals.keys()]).toEqual(['slow']);
    await clock.advance(1);
    expect([...signals.keys()]).toEqual(['slow', 'fast']);
    await clock.advance(30);
    expect((await walk).candidate).toBe('fast');
    expect(clock.nowMs).toBe(110);
    expect(signals.get('slow')!.aborted).toBe(true);
    expect(signals.get('fast')!.aborted).toBe(false);
  });

  it('gives the last candidate the rest of the deadline and fails at the deadline on the injected clock', async () => {
    const clock = new ManualClock();
    const outcomes: boolean[] = [];
    const walk = forwardWithFailover({
      candidates: ['refuses', 'silent'],
      nodeIdOf: (c) => c,
      maxAttempts: 3,
      deadlineMs: 10_000,
      hedge: false,
      hedgeDelayMs: () => 50,
      attemptTimeoutMs: () => 1_000,
      attempt: (c, signal) => answerAfter(clock, c === 'refuses' ? 20 : Infinity, c, { signal, fault: true }),
      onOutcome: (_c, o) => outcomes.push(o.ok),
      clock,
    });
    const failed = expect(walk).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      message: expect.stringContaining('refuses refused'),
    });
    // Past the attempt timeout: the silent node is the last one, so it is not cut short.
    await clock.advance(5_000);
    await clock.advance(4_999);
    expect(outcomes).toEqual([false]);
    await clock.advance(1);
    await failed;
    expect(clock.nowMs).toBe(10_000);
  });

  it('runs on the runtime clock when none is given (fake timers apply, as before)', async () => {
    vi.useFakeTimers();
    const walk = forwardWithFailover({
      candidates: ['silent'],
      nodeIdOf: (c) => c,
      maxAttempts: 3,
      deadlineMs: 60_000,
      hedge: false,
      hedgeDelayMs: () => 50,
      attempt: (_c, signal) =>
        new Promise<string>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    });
    const failed = expect(walk).rejects.toBeInstanceOf(HexEdgeError);
    await vi.advanceTimersByTimeAsync(60_000);
    await failed;
  });
});
