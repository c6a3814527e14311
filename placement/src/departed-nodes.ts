// Nodes evicted within the move limit, remembered (and persisted) with the place they left from, so a
// node that goes silent and comes back is judged against that place: silence buys no fresh move.
// Bounded, because a swarm of throwaway identities departs too.
import { trimOldest } from '@hexedge/protocol';
import type { NodeRecord } from './node-record.ts';
import type { DepartedNode, NodeStore } from './node-store.ts';
import { MIN_LOCATION_CHANGE_INTERVAL_MS } from './registration-checks.ts';

/** Evicted nodes remembered at once (for the move limit); past this the longest gone is forgotten. */
export const MAX_DEPARTED_NODES = 100_000;

export class DepartedNodes {
  readonly #store: NodeStore;
  /** Evicted nodes' last place and move, for an hour (see DepartedNode); oldest departure first. */
  readonly #departed = new Map<string, DepartedNode>();

  /** Restores the stored departures still within the move limit at `restoredAtMs`. */
  constructor(store: NodeStore, restoredAtMs: number) {
    this.#store = store;
    for (const d of (store.loadDeparted?.() ?? []).sort((a, b) => a.departedAtMs - b.departedAtMs)) {
      if (restoredAtMs - d.departedAtMs < MIN_LOCATION_CHANGE_INTERVAL_MS) this.#departed.set(d.nodeId, d);
    }
  }

  get(nodeId: string): DepartedNode | undefined {
    return this.#departed.get(nodeId);
  }

  /** The node registered again: its departure is spent. */
  forget(nodeId: string): void {
    this.#departed.delete(nodeId);
    this.#store.deleteDeparted?.(nodeId);
  }

  depart(node: NodeRecord, atMs: number): void {
    const d: DepartedNode = {
      nodeId: node.id,
      location: node.location,
      locationChangedAtMs: node.locationChangedAtMs,
      departedAtMs: atMs,
    };
    this.#store.saveDeparted?.(d);
    this.#departed.delete(node.id);
    this.#departed.set(node.id, d);
    // A kept cursor (takeOldest): a fresh `keys().next()` walks every hole earlier evictions left, ~47 µs
    // per eviction at this cap, seconds for a sweep that evicts a departed free-identity swarm.
    trimOldest(this.#departed, MAX_DEPARTED_NODES, (oldest) => this.#store.deleteDeparted?.(oldest));
  }

  /** Forgets the departures past the move limit at `nowMs`. */
  expire(nowMs: number): void {
    for (const [id, d] of this.#departed) {
      if (nowMs - d.departedAtMs < MIN_LOCATION_CHANGE_INTERVAL_MS) break; // oldest first
      this.#departed.delete(id);
      this.#store.deleteDeparted?.(id);
    }
  }
}
