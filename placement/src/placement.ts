import { HexEdgeError, MAX_NEAREST_K, type LatLng } from '@hexedge/protocol';
import { NodeIndex } from './node-index.ts';
import { servesModel, type NodeRecord } from './node-record.ts';
import { NodeRegistry } from './node-registry.ts';

export interface PlacementOptions {
  heartbeatIntervalMs: number;
  now?: () => number;
}

export interface Candidate {
  node: NodeRecord;
  distanceKm: number;
}

export interface CandidateQuery {
  location: LatLng;
  model: string;
  version?: string;
  /** Length of the failover list. */
  k?: number;
}

/** Default length of a failover list: the chosen node and two fall-backs. */
export const DEFAULT_FAILOVER_LENGTH = 3;

/** Placement: the node registry plus the spatial index that answers "who is nearest and able". */
export class Placement {
  readonly registry: NodeRegistry;
  readonly #index = new NodeIndex<{ id: string; lat: number; lng: number; node: NodeRecord }>();

  constructor(options: PlacementOptions) {
    this.registry = new NodeRegistry({
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      ...(options.now ? { now: options.now } : {}),
      onChange: (node) => this.#index.upsert({ id: node.id, lat: node.location.lat, lng: node.location.lng, node }),
    });
  }

  /** Nearest healthy nodes to a point, optionally only those serving a model (ready). */
  nearest(query: { location: LatLng; k: number; model?: string; version?: string }): Candidate[] {
    if (!Number.isInteger(query.k) || query.k < 1 || query.k > MAX_NEAREST_K) {
      throw new HexEdgeError('INVALID_REQUEST', `k must be an integer in [1, ${MAX_NEAREST_K}], got ${query.k}`);
    }
    const { model, version } = query;
    return this.#index
      .nearest({
        ...query.location,
        k: query.k,
        filter: (p) =>
          this.registry.statusOf(p.node) === 'healthy' && (!model || servesModel(p.node, model, version) !== undefined),
      })
      .map(({ id, distanceKm }) => ({ node: this.#index.get(id)!.node, distanceKm }));
  }

  /** The ordered failover list for a request: healthy nodes serving the model, nearest first. */
  candidates(query: CandidateQuery): Candidate[] {
    const { model, version } = query;
    return this.#index
      .nearest({
        ...query.location,
        k: query.k ?? DEFAULT_FAILOVER_LENGTH,
        filter: (p) => this.registry.statusOf(p.node) === 'healthy' && servesModel(p.node, model, version) !== undefined,
      })
      .map(({ id, distanceKm }) => ({ node: this.#index.get(id)!.node, distanceKm }));
  }

  /** True when any registered node (healthy or not) has announced this model. */
  isKnownModel(model: string, version?: string): boolean {
    for (const node of this.registry.values()) {
      if (node.models.some((m) => m.name === model && (version === undefined || m.version === version))) return true;
    }
    return false;
  }
}
