/**
 * The gateway's walk along placement's failover list, with its policy: how many nodes, the deadline,
 * hedging after a node's p95, the per-node attempt timeout, and every attempt's outcome fed to the
 * latency tracker and reported to placement. `InferService` calls it for every request; the network
 * simulator calls it too (on its clock), so the walk it measures is the one the gateway runs.
 */
import type { PlacementPolicy } from '@hexedge/protocol';
import { forwardWithFailover } from './forward.ts';
import type { NodeFault } from './node-fault.ts';
import type { LatencyTracker } from './latency-tracker.ts';
import type { WalkClock } from './walk-clock.ts';

export const DEFAULT_DEADLINE_MS = 10_000;
/** At most this many nodes are tried per request (a hedged copy counts as one). */
export const MAX_ATTEMPTS = 3;

/** What an attempt's outcome report carries (placement's `reportOutcome`). */
export interface AttemptOutcome {
  nodeId: string;
  model: string;
  latencyMs: number;
  ok: boolean;
}

export interface FailoverWalkOptions<C extends { node: { id: string } }, R> {
  /** Placement's failover list, best first. */
  candidates: readonly C[];
  model: string;
  /** The request's `deadlineMs` and `hedge` (defaults: DEFAULT_DEADLINE_MS, no hedge). */
  policy?: Pick<PlacementPolicy, 'deadlineMs' | 'hedge'> | undefined;
  /** The gateway's recent answer times per node: hedge delay and attempt timeout come from it. */
  latency: LatencyTracker;
  attempt: (c: C, signal: AbortSignal) => Promise<R>;
  /** Placement's feedback; advisory, so a report that fails is logged and the request goes on. */
  reportOutcome?: ((outcome: AttemptOutcome) => void | Promise<void>) | undefined;
  /**
   * Every attempt's outcome with the node fault that ended a failed one, for a caller that judges
   * faults itself (the gateway's InferService: refusals, oracle reports); replaces `reportOutcome`.
   */
  onOutcome?: ((c: C, outcome: { ok: boolean; latencyMs: number; fault?: NodeFault }) => void) | undefined;
  log: (message: string) => void;
  clock?: WalkClock | undefined;
}

export function walkFailoverList<C extends { node: { id: string } }, R>(
  o: FailoverWalkOptions<C, R>,
): Promise<{ result: R; candidate: C; attempts: number }> {
  const deadlineMs = o.policy?.deadlineMs ?? DEFAULT_DEADLINE_MS;
  return forwardWithFailover({
    candidates: o.candidates,
    nodeIdOf: (c) => c.node.id,
    maxAttempts: MAX_ATTEMPTS,
    deadlineMs,
    hedge: o.policy?.hedge ?? false,
    hedgeDelayMs: (c) => o.latency.p95Ms(c.node.id),
    attemptTimeoutMs: (c) => o.latency.attemptTimeoutMs(c.node.id, deadlineMs),
    attempt: o.attempt,
    onOutcome: (c, outcome) => {
      if (outcome.ok) o.latency.record(c.node.id, outcome.latencyMs);
      if (o.onOutcome) return o.onOutcome(c, outcome);
      // Feedback is advisory: a failed report (a shard unreachable) must not fail the request.
      try {
        void Promise.resolve(
          o.reportOutcome?.({
            nodeId: c.node.id,
            model: o.model,
            latencyMs: outcome.latencyMs,
            ok: outcome.ok,
          }),
        ).catch((err: unknown) => o.log(`outcome report for ${c.node.id} failed: ${(err as Error).message}`));
      } catch (err) {
        o.log(`outcome report for ${c.node.id} failed: ${(err as Error).message}`);
      }
    },
    ...(o.clock ? { clock: o.clock } : {}),
  });
}
