// Placement's plain spatial answers, with no scoring: the nearest healthy nodes able to serve, and every
// node around a point (a map's hex). Apart from the Placement class so that its methods read as the
// ports they are, and beside nearestOf, which they share with the scored search.
import { HexEdgeError, type LatLng } from '@hexedge/protocol';
import type { ModelHolders } from './model-holders.ts';
import { narrower, nearestOf, type IndexedNode } from './nearest-search.ts';
import type { NodeIndex } from './node-index.ts';
import { servesModel, type NodeRecord } from './node-record.ts';
import type { Candidate } from './scoring.ts';

/** Placement.nearest's answer, once its query is checked (`isHealthy`: the registry's verdict). */
export function nearestNodes(
  parts: {
    index: NodeIndex<IndexedNode>;
    holders: ModelHolders;
    isHealthy: (node: NodeRecord) => boolean;
  },
  query: {
    location: LatLng;
    k: number;
    model?: string | undefined;
    version?: string | undefined;
    contentId?: string | undefined;
    filter?: ((node: NodeRecord) => boolean) | undefined;
  },
): Candidate[] {
  const { index, holders, isHealthy } = parts;
  const { location, k, model, version, contentId, filter } = query;
  const byModel = model ? holders.ofModel(model, version) : 'all';
  const byContent = contentId !== undefined ? holders.ofReadyContent(contentId) : 'all';
  return nearestOf(index, {
    location,
    k,
    holders: narrower(byModel, byContent),
    accept: (node) =>
      isHealthy(node) &&
      (!model || servesModel(node, model, version) !== undefined) &&
      (contentId === undefined || node.models.some((m) => m.contentId === contentId && m.ready)) &&
      (!filter || filter(node)),
  }).map(({ id, distanceKm }) => ({ node: index.get(id)!.node, distanceKm }));
}

/** Placement.nodesWithin's answer (see there). */
export function nodesWithin(
  index: NodeIndex<IndexedNode>,
  query: {
    location: LatLng;
    radiusKm: number;
    limit?: number;
    filter?: (node: NodeRecord) => boolean;
  },
): Candidate[] {
  const { location, radiusKm, filter } = query;
  if (!(radiusKm >= 0))
    throw new HexEdgeError('INVALID_REQUEST', `radiusKm must be a non-negative number, got ${radiusKm}`);
  return index
    .nearest({
      ...location,
      k: query.limit ?? Infinity,
      maxDistanceKm: radiusKm,
      ...(filter ? { filter: (p: IndexedNode) => filter(p.node) } : {}),
    })
    .map(({ id, distanceKm }) => ({ node: index.get(id)!.node, distanceKm }));
}
