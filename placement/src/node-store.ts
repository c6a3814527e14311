import type { LatLng } from '@hexedge/protocol';
import type { NodeRecord } from './node-record.ts';

/**
 * What the registry remembers of an evicted node for an hour: where it was and when it last moved,
 * so going silent does not buy a node a fresh move (MIN_LOCATION_CHANGE_INTERVAL_MS).
 */
export interface DepartedNode {
  nodeId: string;
  location: LatLng;
  locationChangedAtMs: number | null;
  departedAtMs: number;
}

/** The oracle's latest verdict on a node. Kept by node id, so it outlives eviction and re-registration. */
export interface TrustRecord {
  nodeId: string;
  /** 0 (never route) … 1 (fully trusted). */
  score: number;
  reasons: string[];
  updatedAtMs: number;
}

/** Request count for one model in one coarse H3 cell during one time bucket (the planner's input). */
export interface DemandRow {
  bucketStartMs: number;
  cell: string;
  model: string;
  /** Empty when the requests named no version. */
  version: string;
  count: number;
}

/**
 * Durable placement state. Calls are synchronous (SQLite on Node and Durable Object storage are both
 * synchronous), and the registry calls them only after a message passed every check and before it
 * changes memory: a failed write leaves both sides as they were.
 */
export interface NodeStore {
  loadNodes(): NodeRecord[];
  saveNode(node: NodeRecord): void;
  deleteNode(nodeId: string): void;
  loadTrust(): TrustRecord[];
  saveTrust(record: TrustRecord): void;
  loadDemand(): DemandRow[];
  /** Replaces the whole stored demand window. */
  saveDemand(rows: DemandRow[]): void;
  /**
   * For a store that commits node writes in groups (SqliteNodeStore): settles once every write made so
   * far is durable, rejects with STORAGE_UNAVAILABLE if their commit failed. Absent: writes are durable
   * when they return.
   */
  whenDurable?(): Promise<void>;
  /** Evicted nodes' last place and move (optional: without them the move limit holds until a restart). */
  loadDeparted?(): DepartedNode[];
  saveDeparted?(node: DepartedNode): void;
  deleteDeparted?(nodeId: string): void;
}

/** In-memory store for unit tests; copies on the way in and out like a real store would. */
export class MemoryNodeStore implements NodeStore {
  readonly nodes = new Map<string, NodeRecord>();
  readonly trust = new Map<string, TrustRecord>();
  readonly departed = new Map<string, DepartedNode>();
  demand: DemandRow[] = [];

  loadNodes(): NodeRecord[] {
    return [...this.nodes.values()].map((n) => structuredClone(n));
  }
  saveNode(node: NodeRecord): void {
    this.nodes.set(node.id, structuredClone(node));
  }
  deleteNode(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
  loadTrust(): TrustRecord[] {
    return [...this.trust.values()].map((t) => structuredClone(t));
  }
  saveTrust(record: TrustRecord): void {
    this.trust.set(record.nodeId, structuredClone(record));
  }
  loadDemand(): DemandRow[] {
    return structuredClone(this.demand);
  }
  saveDemand(rows: DemandRow[]): void {
    this.demand = structuredClone(rows);
  }
  loadDeparted(): DepartedNode[] {
    return [...this.departed.values()].map((d) => structuredClone(d));
  }
  saveDeparted(node: DepartedNode): void {
    this.departed.set(node.nodeId, structuredClone(node));
  }
  deleteDeparted(nodeId: string): void {
    this.departed.delete(nodeId);
  }
}
