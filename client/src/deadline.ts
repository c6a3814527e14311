/** A per-call deadline and the caller's own signal, as one signal and a clock to budget retries by. */
export interface CallDeadline {
  signal: AbortSignal | undefined;
  /** When the deadline passes (ms since epoch); undefined without one. */
  atMs: number | undefined;
  /** Whether the deadline (not the caller's signal) is what aborted. */
  expired(): boolean;
}

export function callDeadline(options: {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  nowMs: number;
}): CallDeadline {
  const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  return {
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    atMs: options.timeoutMs !== undefined ? options.nowMs + options.timeoutMs : undefined,
    expired: () => timeout?.aborted === true && options.signal?.aborted !== true,
  };
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
