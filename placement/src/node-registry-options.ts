// What a NodeRegistry's owner plugs in: its clock, store, index hooks and the admission hooks through
// which Placement and the gateway refuse messages before they are written. Apart from the class so the
// hooks' contracts read in one place.
import type { NodeRecord } from './node-record.ts';
import type { NodeStore } from './node-store.ts';

export interface NodeRegistryOptions {
  heartbeatIntervalMs: number;
  now?: () => number;
  /** Called after a node is added, moved or updated, so an index can follow. */
  onChange?: (node: NodeRecord) => void;
  /** Called after a node is evicted. */
  onRemove?: (nodeId: string) => void;
  /** Durable state; nodes in it are restored at construction. Defaults to memory only. */
  store?: NodeStore;
  /** Treat claimed locations as verified (a setup without a coverage oracle). Default false. */
  assumeLocationsVerified?: boolean;
  /**
   * Called for a message whose signature and sequence hold, before it is written: throws (e.g.
   * RATE_LIMITED) to refuse it. Only here can a per-node rate be charged without letting a forger
   * spend an honest node's allowance.
   */
  admit?: (message: { nodeId: string; kind: 'registration' | 'heartbeat' }) => void;
  /**
   * Called for a registration of a node not registered now, after `admit`, before the write, with the
   * source it came from (the gateway's client source; undefined in-process): throws (e.g. OVERLOADED,
   * Placement's cap on nodes on probation) to refuse it, or names a node whose place it takes (evicted
   * before the write, as a silent node is).
   */
  admitNewNode?: (node: {
    nodeId: string;
    source: string | undefined;
    returning?: boolean;
  }) => { evict?: string } | void;
  /** Called after a node was evicted to make room for a new one (admitNewNode's `evict`). */
  onEvictedForRoom?: (nodeId: string) => void;
}
