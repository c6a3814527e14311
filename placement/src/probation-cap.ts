import { HexEdgeError } from '@hexedge/protocol';
import { EVICTION_SWEEP_INTERVAL_MS } from './node-registry.ts';

/** The source of a node restored from the store or registered in-process (no client address known). */
export const UNKNOWN_PROBATION_SOURCE = 'unknown';

/**
 * The bound on registered nodes without standing. Identities are free (a key pair) and so, nearly,
 * are source addresses (an IPv6 /64 has 2^64): rate limits slow a flood of fresh identities but do
 * not bound what it leaves behind, so the registry keeps at most `max` nodes on probation (no oracle
 * score yet). Nodes with standing are neither counted nor evicted for room; a slot frees when a
 * probation node is scored, falls silent and is evicted, or moves away.
 *
 * A full registry shares its slots fairly between sources (the caller's client source: an IPv4
 * address or an IPv6 /48): a newcomer whose source holds fewer probation nodes than the biggest
 * source, even after its own, takes the slot of that source's oldest probation node; otherwise it is
 * refused. So whoever keeps the registry full cannot keep out a newcomer from anywhere else: holding
 * the slots costs it a churn of re-registrations (rate-limited per source), and the shares converge to
 * equal.
 */
export class ProbationCap {
  readonly max: number;
  /** Registered nodes on probation now, each with the source it registered from. */
  readonly #sourceOf = new Map<string, string>();
  /** Probation nodes per source, oldest first. */
  readonly #bySource = new Map<string, Set<string>>();
  /** Sources by how many probation nodes each holds, and the most any holds: the biggest in O(1). */
  readonly #sourcesHolding = new Map<number, Set<string>>();
  #mostHeld = 0;
  /** The node admitted last and its source, taken by the noteNode of the write that follows. */
  #pending: { nodeId: string; source: string } | undefined;

  /** The setting the cap comes from, named in refusals (what an operator would change). */
  readonly #limitName: string;

  constructor(options: { max: number; limitName?: string }) {
    const { max } = options;
    if (!(Number.isInteger(max) && max > 0) && max !== Infinity)
      throw new HexEdgeError('INVALID_REQUEST', `maxProbationNodes must be a positive integer, got ${max}`);
    this.max = max;
    this.#limitName = options.limitName ?? 'maxProbationNodes';
  }

  get count(): number {
    return this.#sourceOf.size;
  }

  /** The most probation nodes any one source holds now. */
  get largestShare(): number {
    return this.#mostHeld;
  }

  /** Probation nodes held by `source` now. */
  heldBy(source: string): number {
    return this.#bySource.get(source)?.size ?? 0;
  }

  /**
   * A node was added or changed (registry's onChange, restores included). `recordedSource`: the source
   * kept with its record (NodeRecord.admittedFrom), what a restored node is counted under.
   */
  noteNode(nodeId: string, onProbation: boolean, recordedSource?: string): void {
    if (!onProbation) return this.forget(nodeId);
    if (this.#sourceOf.has(nodeId)) return;
    const pending = this.#pending?.nodeId === nodeId ? this.#pending.source : undefined;
    if (pending !== undefined) this.#pending = undefined;
    const source = pending ?? recordedSource ?? UNKNOWN_PROBATION_SOURCE;
    this.#sourceOf.set(nodeId, source);
    let nodes = this.#bySource.get(source);
    if (!nodes) this.#bySource.set(source, (nodes = new Set()));
    nodes.add(nodeId);
    this.#moveSource(source, nodes.size - 1, nodes.size);
  }

  /** A node left the registry, or earned standing. */
  forget(nodeId: string): void {
    const source = this.#sourceOf.get(nodeId);
    if (source === undefined) return;
    this.#sourceOf.delete(nodeId);
    const nodes = this.#bySource.get(source)!;
    nodes.delete(nodeId);
    if (nodes.size === 0) this.#bySource.delete(source);
    this.#moveSource(source, nodes.size + 1, nodes.size);
  }

  /** Files `source` under the count it holds now (`to`) instead of `from`. */
  #moveSource(source: string, from: number, to: number): void {
    const before = this.#sourcesHolding.get(from);
    before?.delete(source);
    if (before?.size === 0) this.#sourcesHolding.delete(from);
    if (to > 0) {
      let after = this.#sourcesHolding.get(to);
      if (!after) this.#sourcesHolding.set(to, (after = new Set()));
      after.add(source);
    }
    // A count changes by one at a time, so the most held is `to`, or one less once `from` emptied.
    if (to > this.#mostHeld) this.#mostHeld = to;
    else if (from === this.#mostHeld && !this.#sourcesHolding.has(from)) this.#mostHeld = to;
  }

  /**
   * Before a node that is not registered now is written (registry's admitNewNode): admits it, or
   * names the probation node whose slot it takes (the registry evicts that one first), or throws
   * OVERLOADED when its own source already holds a fair share of a full registry. `returning`: the
   * node held a slot here a moment ago and is handed back (its move to another shard was refused), so
   * it takes its slot again even where another took it meanwhile (by at most the moves in flight).
   */
  admitNew(
    nodeId: string,
    options: { onProbation: boolean; source?: string; returning?: boolean },
  ): { evict?: string } {
    if (!options.onProbation) return {};
    const source = options.source ?? UNKNOWN_PROBATION_SOURCE;
    if (this.#sourceOf.size < this.max || options.returning) {
      this.#pending = { nodeId, source };
      return {};
    }
    const biggest = this.#biggestSource();
    if (biggest && biggest.source !== source && this.heldBy(source) + 1 < biggest.nodes.size) {
      this.#pending = { nodeId, source };
      return { evict: biggest.nodes.values().next().value! };
    }
    throw new HexEdgeError(
      'OVERLOADED',
      `the registry holds ${this.#sourceOf.size} nodes on probation, its limit (${this.#limitName} ${this.max}), and ${this.heldBy(source)} of them came from this node's source, as many as any source: node ${nodeId} is refused until one is scored by the oracle or leaves`,
      // A slot frees at the earliest with the next sweep for silent nodes.
      { maxProbationNodes: this.max, retryAfterMs: EVICTION_SWEEP_INTERVAL_MS },
    );
  }

  /** A source holding the most probation nodes (the first to reach that count). */
  #biggestSource(): { source: string; nodes: Set<string> } | undefined {
    const source = this.#sourcesHolding.get(this.#mostHeld)?.values().next().value;
    return source === undefined ? undefined : { source, nodes: this.#bySource.get(source)! };
  }
}
