/**
 * The time source and timers the failover walk runs on. The gateway uses the runtime's own; the
 * network simulator (@hexedge/simulator) passes a simulated clock, so the walk it measures is this
 * code and not a model of it.
 */
export interface WalkClock {
  /** Monotonic milliseconds (attempt latencies are differences of two readings). */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): unknown;
  /** Cancels a timer from `setTimeout`; `undefined` is ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The runtime's clock. Each call looks the global up when it is made (not once at load), so timers
 * faked in tests (`vi.useFakeTimers`) apply to the walk as they did before the clock was injectable.
 */
export const RUNTIME_CLOCK: WalkClock = {
  now: () => performance.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};
