/**
 * The oracle's in-memory store with its stake events indexed by node, for the real `StakeLedger` at
 * 100k nodes: MemoryOracleStore scans every stake event on each read and each slash (fine for a
 * test, O(n²) for a network). Same contract: a slash whose evidence was already slashed is refused.
 */
import { MemoryOracleStore, type StakeEvent } from '@hexedge/coverage-oracle';

export class IndexedStakeStore extends MemoryOracleStore {
  readonly #byNode = new Map<string, StakeEvent[]>();
  readonly #slashedEvidence = new Set<string>();
  #seq = 0;

  override appendStakeEvent(event: Omit<StakeEvent, 'seq'>): boolean {
    if (event.type === 'slash') {
      if (this.#slashedEvidence.has(event.evidenceId ?? '')) return false;
      this.#slashedEvidence.add(event.evidenceId ?? '');
    }
    let list = this.#byNode.get(event.nodeId);
    if (!list) this.#byNode.set(event.nodeId, (list = []));
    list.push({ ...event, seq: ++this.#seq });
    return true;
  }

  override listStakeEvents(nodeId?: string): StakeEvent[] {
    if (nodeId !== undefined) return this.#byNode.get(nodeId) ?? [];
    return [...this.#byNode.values()].flat().sort((a, b) => a.seq - b.seq);
  }
}
