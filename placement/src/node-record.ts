import type { H3Cell, Hardware, LatLng, NodeModel } from '@hexedge/protocol';

export type NodeStatus = 'healthy' | 'unhealthy' | 'draining';

/** Everything placement knows about one edge node. The node id is its Ed25519 public key. */
export interface NodeRecord {
  id: string;
  url: string;
  location: LatLng;
  cell: H3Cell;
  hardware: Hardware;
  models: NodeModel[];
  registeredAtMs: number;
  lastRegistrationIssuedAtMs: number;
  lastHeartbeatAtMs: number;
  lastSeq: number;
  draining: boolean;
  /** Asking price per request in settlement units (0 when the node announced none). */
  pricePerRequest: number;
  /** The oracle has confirmed the node is at `location`; false after a move until it re-checks. */
  locationVerified: boolean;
  /** When the node last moved (re-registered elsewhere); null if never. */
  locationChangedAtMs: number | null;
  /** Ids of the regions containing `location` (country, EU, M49 areas), derived at registration. */
  regions: string[];
  /**
   * The client source (an IPv4 address or an IPv6 /48) of the registration that first admitted the
   * node, kept with it so a restored node keeps its source's share of the probation cap. Internal:
   * no route shows it.
   */
  admittedFrom?: string;
}

/** Resolution of the cell shown for a node (res 9 hexes are ~0.1 km², a city block). */
export const NODE_CELL_RESOLUTION = 9;

/** Execution providers that run on the CPU; every other one is an accelerator. */
export const CPU_PROVIDERS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/** The node's ready entry for the model (any version when none is asked for). */
export function servesModel(node: NodeRecord, model: string, version?: string): NodeModel | undefined {
  return node.models.find(
    (m) => m.name === model && m.ready && (version === undefined || m.version === version),
  );
}

/** Like servesModel, but also an entry the node has announced and is still loading. Ready first. */
export function findModel(node: NodeRecord, model: string, version?: string): NodeModel | undefined {
  return (
    servesModel(node, model, version) ??
    node.models.find((m) => m.name === model && (version === undefined || m.version === version))
  );
}

/** False only when the model's manifest asks for an accelerator and this node would run it on a CPU. */
export function meetsAcceleratorNeed(node: NodeRecord, entry: NodeModel): boolean {
  if (!entry.prefersAccelerator) return true;
  if (entry.executionProvider) return !CPU_PROVIDERS.has(entry.executionProvider);
  return node.hardware.executionProviders.some((ep) => !CPU_PROVIDERS.has(ep));
}

export function hasAccelerator(node: NodeRecord): boolean {
  return node.hardware.executionProviders.some((ep) => !CPU_PROVIDERS.has(ep));
}
