// What a coordinator remembers about where things are, so most calls skip the directory: node id →
// shard (cached per isolate, bounded), and the shard map (which shards exist and which models each
// serves, reused for a TTL). Kept apart from ShardedPlacement so its methods read as placement calls.
import type { ShardNetwork } from './sharded-placement.ts';
import { directoryBucketName, DIRECTORY_MAP_NAME, type ShardSummary } from './shard-protocol.ts';

/** Node id → shard entries kept per isolate (heartbeats skip the directory on a hit). */
const ROUTE_CACHE_LIMIT = 100_000;

export interface ShardMap {
  atMs: number;
  cells: string[];
  byModel: Map<string, Set<string>>;
}

export class ShardLocator {
  readonly #network: ShardNetwork;
  readonly #mapTtlMs: number;
  readonly #now: () => number;
  readonly #routes = new Map<string, string>();
  #map: ShardMap | undefined;

  constructor(options: { network: ShardNetwork; mapTtlMs: number; now: () => number }) {
    this.#network = options.network;
    this.#mapTtlMs = options.mapTtlMs;
    this.#now = options.now;
  }

  /** The node's shard as last seen by this isolate, without asking the directory. */
  cached(nodeId: string): string | undefined {
    return this.#routes.get(nodeId);
  }

  forget(nodeId: string): void {
    this.#routes.delete(nodeId);
  }

  async lookup(nodeId: string): Promise<string | null> {
    const cell = await this.#network.directory(directoryBucketName(nodeId)).lookup(nodeId);
    if (cell) this.route(nodeId, cell);
    return cell;
  }

  route(nodeId: string, cell: string): void {
    if (this.#routes.size >= ROUTE_CACHE_LIMIT && !this.#routes.has(nodeId))
      this.#routes.delete(this.#routes.keys().next().value!);
    this.#routes.set(nodeId, cell);
  }

  /** Drops the shard map so the next read fetches it (after a change made through this coordinator). */
  invalidateMap(): void {
    this.#map = undefined;
  }

  async shardMap(): Promise<ShardMap> {
    if (this.#map && this.#now() - this.#map.atMs < this.#mapTtlMs) return this.#map;
    // Not shared as a pending promise: on Workers a request must not wait on another request's I/O.
    const summaries = await this.#network.directory(DIRECTORY_MAP_NAME).shardMap();
    return (this.#map = indexShardMap(summaries, this.#now()));
  }
}

function indexShardMap(summaries: ShardSummary[], atMs: number): ShardMap {
  const byModel = new Map<string, Set<string>>();
  const add = (key: string, cell: string) =>
    (byModel.get(key) ?? byModel.set(key, new Set()).get(key)!).add(cell);
  for (const s of summaries) {
    for (const key of s.models) {
      add(key, s.cell);
      add(key.slice(0, key.indexOf('\u0000')), s.cell);
    }
  }
  return { atMs, cells: summaries.map((s) => s.cell), byModel };
}
