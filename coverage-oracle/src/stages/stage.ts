/**
 * A stage is one step of the pipeline (ingest → verify → score → reward). `tick` handles one batch and
 * says how many items it handled; `runStage` repeats it until the signal aborts, resting when idle.
 * A thrown error is an infrastructure fault: the loop stops and rejects, so the composition root can
 * shut everything down.
 */
export interface Stage {
  readonly name: string;
  tick(nowMs: number): Promise<number>;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export async function runStage(stage: Stage, options: { signal: AbortSignal; idleMs: number; nowMs?: () => number }): Promise<void> {
  const now = options.nowMs ?? Date.now;
  while (!options.signal.aborted) {
    const handled = await stage.tick(now());
    if (handled === 0) await sleep(options.idleMs, options.signal);
  }
}
