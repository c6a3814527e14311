import { HexEdgeError } from '@hexedge/protocol';
import { EVICTION_SWEEP_INTERVAL_MS } from './node-registry.ts';

/**
 * The bound on registered nodes without standing. Identities are free (a key pair) and so, nearly,
 * are source addresses (an IPv6 /64 has 2^64): rate limits slow a flood of fresh identities but do
 * not bound what it leaves behind, so the registry keeps at most `max` nodes on probation (no oracle
 * score yet) and refuses a new one past it. Nodes with standing are neither counted nor evicted for
 * room; a slot frees when a probation node is scored, falls silent and is evicted, or moves away.
 */
export class ProbationCap {
  readonly max: number;
  /** Registered nodes on probation now. */
  readonly #ids = new Set<string>();

  constructor(options: { max: number }) {
    const { max } = options;
    if (!(Number.isInteger(max) && max > 0) && max !== Infinity)
      throw new HexEdgeError('INVALID_REQUEST', `maxProbationNodes must be a positive integer, got ${max}`);
    this.max = max;
  }

  get count(): number {
    return this.#ids.size;
  }

  /** A node was added or changed (registry's onChange, restores included). */
  noteNode(nodeId: string, onProbation: boolean): void {
    if (onProbation) this.#ids.add(nodeId);
    else this.#ids.delete(nodeId);
  }

  /** A node left the registry, or earned standing. */
  forget(nodeId: string): void {
    this.#ids.delete(nodeId);
  }

  /** Before a node that is not registered now is written (registry's admitNewNode). */
  admitNew(nodeId: string, onProbation: boolean): void {
    if (!onProbation || this.#ids.size < this.max) return;
    throw new HexEdgeError(
      'OVERLOADED',
      `the registry holds ${this.#ids.size} nodes on probation, its limit (maxProbationNodes ${this.max}): node ${nodeId} is refused until one is scored by the oracle or leaves`,
      // A slot frees at the earliest with the next sweep for silent nodes.
      { maxProbationNodes: this.max, retryAfterMs: EVICTION_SWEEP_INTERVAL_MS },
    );
  }
}
