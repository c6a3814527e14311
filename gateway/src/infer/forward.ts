import { HexEdgeError } from '@hexedge/protocol';
import { RUNTIME_CLOCK, type WalkClock } from './walk-clock.ts';
import { NodeFault } from './node-fault.ts';

export { NodeFault } from './node-fault.ts';

export interface ForwardOptions<C, R> {
  /** Placement's failover list, best first. */
  candidates: readonly C[];
  nodeIdOf: (c: C) => string;
  /** At most this many nodes are tried (hedged copies count). */
  maxAttempts: number;
  /** The whole request's budget from now. */
  deadlineMs: number;
  /** Send a second copy to the next candidate when the first has not answered after `hedgeDelayMs(c)`. */
  hedge: boolean;
  hedgeDelayMs: (c: C) => number;
  attempt: (c: C, signal: AbortSignal) => Promise<R>;
  /**
   * How long one attempt may take before it counts as a node fault and the next candidate is tried. A
   * host that went silent (SYN dropped, process hung) would otherwise hold the whole deadline.
   */
  attemptTimeoutMs?: (c: C) => number;
  /** Every attempt's outcome, so placement's latency estimates follow what clients see (`fault` for a failed one). */
  onOutcome?: (c: C, outcome: { ok: boolean; latencyMs: number; fault?: NodeFault }) => void;
  /** Time and timers; the runtime's unless given (the network simulator runs the walk on its own clock). */
  clock?: WalkClock;
}

/**
 * Walks the failover list within the deadline. A NodeFault moves on to the next candidate at once;
 * any other error (the request's own fault, a 4xx) ends the walk. With `hedge`, a slow first attempt
 * gets a second copy on the next candidate and the first good answer wins; the loser is aborted.
 */
export function forwardWithFailover<C, R>(o: ForwardOptions<C, R>): Promise<{ result: R; candidate: C; attempts: number }> {
  const clock = o.clock ?? RUNTIME_CLOCK;
  return new Promise((resolve, reject) => {
    const controllers: AbortController[] = [];
    const faults: string[] = [];
    let next = 0;
    let running = 0;
    let settled = false;
    let hedgeTimer: unknown;

    /** Settles once; aborts the attempts still running (not the winner: an abort costs a DOMException). */
    const finish = (fn: () => void, winner?: AbortController) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(deadlineTimer);
      clock.clearTimeout(hedgeTimer);
      for (const c of controllers) if (c !== winner) c.abort();
      fn();
    };
    const deadlineTimer = clock.setTimeout(
      () => finish(() => reject(new HexEdgeError('DEADLINE_EXCEEDED', `no node answered within the ${o.deadlineMs} ms deadline${faults.length ? ` (${faults.join('; ')})` : ''}`))),
      o.deadlineMs,
    );

    const launch = () => {
      if (settled || next >= o.candidates.length || next >= o.maxAttempts) return false;
      const candidate = o.candidates[next++]!;
      const controller = new AbortController();
      controllers.push(controller);
      running++;
      const started = clock.now();
      // The last node that can be tried has the rest of the deadline: nothing to move on to.
      const isLast = next >= o.candidates.length || next >= o.maxAttempts;
      const attemptTimer =
        o.attemptTimeoutMs && !isLast
          ? clock.setTimeout(
              () => controller.abort(new NodeFault({ nodeId: o.nodeIdOf(candidate), kind: 'timeout' })),
              o.attemptTimeoutMs(candidate),
            )
          : undefined;
      if (o.hedge && next < o.candidates.length && next < o.maxAttempts) {
        clock.clearTimeout(hedgeTimer);
        hedgeTimer = clock.setTimeout(launch, o.hedgeDelayMs(candidate));
      }
      o.attempt(candidate, controller.signal).then(
        (result) => {
          clock.clearTimeout(attemptTimer);
          running--;
          o.onOutcome?.(candidate, { ok: true, latencyMs: clock.now() - started });
          finish(() => resolve({ result, candidate, attempts: next }), controller);
        },
        (err: unknown) => {
          clock.clearTimeout(attemptTimer);
          running--;
          if (settled) return;
          // Our own attempt timeout surfaces as whatever the client threw on abort: a node fault.
          if (controller.signal.aborted && controller.signal.reason instanceof NodeFault)
            err = controller.signal.reason;
          if (!(err instanceof NodeFault)) return finish(() => reject(err));
          o.onOutcome?.(candidate, { ok: false, latencyMs: clock.now() - started, fault: err });
          faults.push(err.message);
          if (!launch() && running === 0) {
            finish(() =>
              reject(new HexEdgeError('NODE_FAILED', `every candidate node failed: ${faults.join('; ')}`)),
            );
          }
        },
      );
      return true;
    };

    if (!launch()) finish(() => reject(new HexEdgeError('NO_NODE_AVAILABLE', 'no candidate node to try')));
  });
}
