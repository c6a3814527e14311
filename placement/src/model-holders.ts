import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';
import type { NodeRecord } from './node-record.ts';

/**
 * A holder set this many times smaller than the whole index is scanned directly instead of searched
 * through the spatial index with a filter: a filter that passes few nodes makes the nearest search
 * walk every node (all of them for an unknown artifact or a k above the holder count). Past it, the
 * search visits at most this many nodes per holder, so either way the work is O(holders).
 */
export const HOLDER_SCAN_FACTOR = 8;

const SEP = '\u0000';
const nameKey = (model: string) => `n${SEP}${model}`;
const versionKey = (model: string, version: string) => `v${SEP}${model}${SEP}${version}`;
const readyContentKey = (contentId: string) => `c${SEP}${contentId}`;
const verifiedRegionKey = (regionId: string) => `r${SEP}${regionId}`;

/**
 * Which nodes announce which model names, name@versions and (ready) artifacts, and which nodes with a
 * verified location are in which region, kept up to date as nodes register, heartbeat, are verified and
 * leave. Node ids and model names are chosen by strangers, so questions such as "does anyone serve
 * model X", "who holds artifact Y" or "who may serve a request bound to region Z" must cost O(holders)
 * and not a walk over every node. A change costs O(models and regions of that node); a heartbeat with
 * the same models, less.
 */
export class ModelHolders {
  readonly #keysOf = new Map<string, string[]>();
  readonly #holders = new Map<string, Set<string>>();

  upsert(node: NodeRecord): void {
    const keys = new Set<string>();
    for (const m of node.models) {
      keys.add(nameKey(m.name));
      keys.add(versionKey(m.name, m.version));
      if (m.ready) keys.add(readyContentKey(m.contentId));
    }
    // Only a verified location counts for a region-bound request (Placement's eligibility).
    if (node.locationVerified) for (const r of node.regions) keys.add(verifiedRegionKey(r));
    const before = this.#keysOf.get(node.id);
    if (before && before.length === keys.size && before.every((k) => keys.has(k))) return;
    if (before) this.#drop(node.id, before);
    for (const key of keys) {
      let ids = this.#holders.get(key);
      if (!ids) this.#holders.set(key, (ids = new Set()));
      ids.add(node.id);
    }
    this.#keysOf.set(node.id, [...keys]);
  }

  remove(nodeId: string): void {
    const before = this.#keysOf.get(nodeId);
    if (!before) return;
    this.#drop(nodeId, before);
    this.#keysOf.delete(nodeId);
  }

  /** Nodes announcing the model (any version when none is given), ready or loading. */
  ofModel(model: string, version?: string): ReadonlySet<string> | undefined {
    return this.#holders.get(version === undefined ? nameKey(model) : versionKey(model, version));
  }

  /** Nodes with a verified location inside the region (a canonical region id, as `node.regions` has it). */
  inVerifiedRegion(regionId: string): ReadonlySet<string> | undefined {
    return this.#holders.get(verifiedRegionKey(regionId));
  }

  /** Nodes whose last message said they hold this artifact, ready. */
  ofReadyContent(contentId: string): ReadonlySet<string> | undefined {
    return this.#holders.get(readyContentKey(contentId));
  }

  #drop(nodeId: string, keys: readonly string[]): void {
    for (const key of keys) {
      const ids = this.#holders.get(key);
      if (!ids) continue;
      ids.delete(nodeId);
      if (ids.size === 0) this.#holders.delete(key);
    }
  }
}

/**
 * The `limit` nodes among `ids` nearest to `at` that pass `accept`, as the spatial index answers:
 * nearest first, equal distances by id, distances by greatCircleDistanceKm (the index's own, bit for bit).
 * `accept` (the costly part) is asked nearest first and only until `limit` passed, at most
 * `maxAcceptCalls` times: past that, the nearest accepted among those asked (a work budget).
 */
export function nearestAmong(options: {
  ids: Iterable<string>;
  nodeOf: (id: string) => NodeRecord | undefined;
  at: LatLng;
  limit: number;
  maxDistanceKm?: number;
  accept: (node: NodeRecord) => boolean;
  maxAcceptCalls?: number;
}): { id: string; distanceKm: number }[] {
  const maxDistanceKm = options.maxDistanceKm ?? Infinity;
  const near: { id: string; distanceKm: number; node: NodeRecord }[] = [];
  for (const id of options.ids) {
    const node = options.nodeOf(id);
    if (!node) continue;
    const distanceKm = greatCircleDistanceKm(options.at, node.location);
    if (distanceKm <= maxDistanceKm) near.push({ id, distanceKm, node });
  }
  near.sort((a, b) => a.distanceKm - b.distanceKm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const found: { id: string; distanceKm: number }[] = [];
  let callsLeft = options.maxAcceptCalls ?? Infinity;
  for (const { id, distanceKm, node } of near) {
    if (found.length >= options.limit || callsLeft-- <= 0) break;
    if (options.accept(node)) found.push({ id, distanceKm });
  }
  return found;
}
