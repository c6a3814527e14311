// Node faults folded per (node, kind) between flushes, so a black-hole node failing every request
// costs the oracle one report per flush, not one per request; bounded so a swarm of failing nodes
// cannot grow it without limit.
import type { NodeFaultReportBody } from '@hexedge/protocol';
import type { ObservedNodeFault } from './infer/node-fault.ts';

/** A folded fault as queued: the report body before the gateway's key, nonce and time are added. */
export type FaultBody = Omit<NodeFaultReportBody, 'nodeId' | 'nonce' | 'issuedAtMs'>;

/** Fault kinds per node folded into one report per flush, and how many (node, kind) pairs are kept between flushes. */
const MAX_PENDING_FAULTS = 10_000;

export class FaultFold {
  /** Node faults since the last flush, one entry per (node, kind), counted. */
  readonly #faults = new Map<string, FaultBody>();

  get size(): number {
    return this.#faults.size;
  }

  /** Folds the fault into its (node, kind) entry; false when it is new and the fold is full (dropped). */
  add(fault: ObservedNodeFault): boolean {
    const key = `${fault.nodeId}\u0000${fault.kind}`;
    const held = this.#faults.get(key);
    if (held) {
      held.fault.count++;
      held.fault.lastAtMs = fault.atMs;
      return true;
    }
    if (this.#faults.size >= MAX_PENDING_FAULTS) return false;
    this.#faults.set(key, {
      type: 'node-fault',
      targetNodeId: fault.nodeId,
      fault: {
        kind: fault.kind,
        ...(fault.httpStatus !== undefined ? { httpStatus: fault.httpStatus } : {}),
        modelName: fault.model,
        requestId: fault.requestId,
        firstAtMs: fault.atMs,
        lastAtMs: fault.atMs,
        count: 1,
      },
    });
    return true;
  }

  /** The folded faults, oldest first (a live view: a flush reads them all, then clears). */
  values(): IterableIterator<FaultBody> {
    return this.#faults.values();
  }

  clear(): void {
    this.#faults.clear();
  }
}
