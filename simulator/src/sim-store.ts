/**
 * Placement's `NodeStore` for the simulator: nothing to persist, so nothing is copied. The registry
 * keeps its own records; `MemoryNodeStore` would structuredClone every record on every heartbeat,
 * which is a third of the run's time at 100k nodes and measures nothing about placement.
 */
import type { DemandRow, NodeRecord, NodeStore, TrustRecord } from '@hexedge/placement';

export class DiscardingNodeStore implements NodeStore {
  loadNodes(): NodeRecord[] {
    return [];
  }
  saveNode(_node: NodeRecord): void {}
  deleteNode(_nodeId: string): void {}
  loadTrust(): TrustRecord[] {
    return [];
  }
  saveTrust(_record: TrustRecord): void {}
  loadDemand(): DemandRow[] {
    return [];
  }
  saveDemand(_rows: DemandRow[]): void {}
}
