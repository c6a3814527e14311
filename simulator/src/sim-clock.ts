/**
 * The gateway's `WalkClock` on simulated time: a timer is an event in the run's queue, fired when the
 * run reaches it. The failover walk (`walkFailoverList`) runs on it unchanged: its deadline, attempt
 * timeouts and hedge delays are these timers, its attempt latencies differences of `now()`.
 *
 * Timer callbacks settle promises, whose reactions run as microtasks; the run lets them all run
 * (`settle`) before it moves the clock on, so every reaction sees the time its timer fired at.
 */
import type { WalkClock } from '@hexedge/gateway';

export interface TimerEvent {
  atMs: number;
  kind: 'timer';
  fire: () => void;
  cancelled: boolean;
}

export class SimClock implements WalkClock {
  readonly #now: () => number;
  readonly #schedule: (timer: TimerEvent) => void;

  constructor(o: { now: () => number; schedule: (timer: TimerEvent) => void }) {
    this.#now = o.now;
    this.#schedule = o.schedule;
  }

  now(): number {
    return this.#now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerEvent {
    // As a runtime does: a negative or NaN delay fires on the next turn, not in the past.
    const timer: TimerEvent = {
      atMs: this.#now() + (delayMs > 0 ? delayMs : 0),
      kind: 'timer',
      fire: fn,
      cancelled: false,
    };
    this.#schedule(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle) (handle as TimerEvent).cancelled = true;
  }
}

/**
 * Runs every pending microtask: a macrotask (setImmediate) starts only once the microtask queue is
 * empty, however long the chains of promise reactions are (~1 µs per call).
 */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
