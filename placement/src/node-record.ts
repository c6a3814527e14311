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
}

/** Resolution of the cell shown for a node (res 9 hexes are ~0.1 km², a city block). */
export const NODE_CELL_RESOLUTION = 9;

export function servesModel(node: NodeRecord, model: string, version?: string): NodeModel | undefined {
  return node.models.find((m) => m.name === model && m.ready && (version === undefined || m.version === version));
}
