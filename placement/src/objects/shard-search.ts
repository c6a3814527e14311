// The walk that makes a sharded answer equal the single-process index's: shards in order of their
// lower-bound distance, stopping once the k-th best distance so far beats every unvisited bound. Kept
// apart from the coordinator so the correctness argument sits in one place, beside its counters.
import type { LatLng } from '@hexedge/protocol';
import type { Candidate } from '../scoring.ts';
import { minDistanceToCellKm, shardCellOf } from './shard-geometry.ts';

/** Queries answered and shards visited, since this coordinator started. */
export interface ShardSearchStats {
  queries: number;
  multiShardQueries: number;
  shardVisits: number;
}

/**
 * The `limit` nearest answers over `cells` (0 bound for the query's own cell, otherwise the distance
 * to the cell's edge arcs; cells farther than `maxDistanceKm` are skipped), counted into `stats`.
 */
export async function searchShards<T extends Candidate>(
  q: {
    location: LatLng;
    limit: number;
    maxDistanceKm: number;
    cells: string[];
    visit: (cell: string) => Promise<T[]>;
  },
  stats: ShardSearchStats,
): Promise<T[]> {
  const home = shardCellOf(q.location);
  const order = q.cells
    .map((cell) => ({ cell, boundKm: cell === home ? 0 : minDistanceToCellKm(q.location, cell) }))
    .filter((s) => s.boundKm <= q.maxDistanceKm)
    .sort((a, b) => a.boundKm - b.boundKm);
  let merged: T[] = [];
  let next = 0;
  let batch = 1;
  while (next < order.length) {
    const kthKm = merged.length >= q.limit ? merged[q.limit - 1]!.distanceKm : Infinity;
    // ≤, not <: a node exactly at the k-th distance with a smaller id would still come first.
    if (order[next]!.boundKm > kthKm) break;
    let end = next + 1;
    if (kthKm === Infinity) {
      // Short of k answers: widen ring by ring, doubling, instead of asking every shard at once.
      end = Math.min(order.length, next + batch);
      batch *= 2;
    } else {
      while (end < order.length && order[end]!.boundKm <= kthKm) end++;
    }
    const answers = await Promise.all(order.slice(next, end).map((s) => q.visit(s.cell)));
    next = end;
    merged = merged
      .concat(...answers)
      .sort(byDistanceThenId)
      .slice(0, q.limit);
  }
  stats.queries++;
  stats.shardVisits += next;
  if (next > 1) stats.multiShardQueries++;
  return merged;
}

function byDistanceThenId(a: Candidate, b: Candidate): number {
  return a.distanceKm - b.distanceKm || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0);
}
