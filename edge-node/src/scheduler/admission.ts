import { HexEdgeError, type Priority } from '@hexedge/protocol';
import type { QueueLimits } from './priority-lanes.ts';

/**
 * The node's overload rule, as values the scheduler throws: a request is refused with 503 OVERLOADED
 * (this node has no room; the gateway tries the next node, and answers 503 itself when none has) and
 * a Retry-After of the wait it would have had, when
 *  - its level's admission limit is reached (lower levels have lower limits: refused first), or
 *  - the wait expected from the measured service time already exceeds its deadline (it could not be
 *    answered in time, so it is not queued to time out later).
 * Returns undefined when the request is admitted.
 */
export function admissionError(o: {
  model: string;
  priority: Priority;
  queued: number;
  limits: Readonly<QueueLimits>;
  admitted: boolean;
  expectedWaitMs: number;
  /** Whether a service time has been measured yet (no estimate before the first run). */
  measured: boolean;
  deadlineMs?: number;
}): HexEdgeError | undefined {
  if (!o.admitted) {
    return new HexEdgeError(
      'OVERLOADED',
      `model ${o.model} has ${o.queued} requests queued; ${o.priority}-priority requests are admitted below ${o.limits[o.priority]} (high ${o.limits.high}, normal ${o.limits.normal}, low ${o.limits.low}); retry later`,
      { retryAfterMs: o.expectedWaitMs },
    );
  }
  if (o.measured && o.deadlineMs !== undefined && o.expectedWaitMs > o.deadlineMs) {
    return new HexEdgeError(
      'OVERLOADED',
      `model ${o.model} expects a ${o.expectedWaitMs} ms wait at ${o.priority} priority, beyond the request's ${o.deadlineMs} ms deadline`,
      { retryAfterMs: o.expectedWaitMs },
    );
  }
  return undefined;
}

/** A queued request whose deadline passed before a run took it: 504, and it is never run. */
export function deadlineExceeded(o: { model: string; deadlineMs: number; priority: Priority }): HexEdgeError {
  return new HexEdgeError(
    'DEADLINE_EXCEEDED',
    `request for model ${o.model} (${o.priority} priority) waited out its ${o.deadlineMs} ms deadline in the queue`,
  );
}
