import { latLngToH3Cell, type LatLng } from '@hexedge/protocol';
import type { DemandRow, NodeStore } from './node-store.ts';

/** Demand is counted per res-3 hex (~12 400 km², ~60 km edge): a metro region, coarse enough to be stable. */
export const DEMAND_RESOLUTION = 3;
/** One bucket per minute; the window is the last 15, long enough to smooth bursts, short enough to follow a day. */
export const DEMAND_BUCKET_MS = 60_000;
export const DEMAND_WINDOW_MS = 15 * DEMAND_BUCKET_MS;
/** Distinct (hex, model) keys per bucket; beyond it new keys are dropped so junk model names cannot grow memory. */
export const MAX_DEMAND_KEYS_PER_BUCKET = 50_000;

export interface DemandTotal {
  cell: string;
  model: string;
  version: string;
  count: number;
}

const SEP = '\u0000';

/**
 * Sliding window of request counts. A bucket is written to the store when the next one opens (and on
 * checkpoint), so a restart loses at most the current minute and never writes on the request path.
 */
export class DemandWindow {
  readonly #buckets = new Map<number, Map<string, number>>();
  readonly #store: NodeStore;
  readonly #now: () => number;
  #currentBucketMs = -Infinity;

  constructor(options: { store: NodeStore; now: () => number }) {
    this.#store = options.store;
    this.#now = options.now;
    for (const row of this.#store.loadDemand()) {
      this.#bucket(row.bucketStartMs).set([row.cell, row.model, row.version].join(SEP), row.count);
      this.#currentBucketMs = Math.max(this.#currentBucketMs, row.bucketStartMs);
    }
  }

  record(options: { location: LatLng; model: string; version?: string }): void {
    const bucketMs = Math.floor(this.#now() / DEMAND_BUCKET_MS) * DEMAND_BUCKET_MS;
    if (bucketMs > this.#currentBucketMs) {
      const hadData = this.#buckets.size > 0;
      this.#currentBucketMs = bucketMs;
      this.#dropExpired();
      if (hadData) this.checkpoint();
    }
    const bucket = this.#bucket(bucketMs);
    const key = [latLngToH3Cell(options.location, DEMAND_RESOLUTION), options.model, options.version ?? ''].join(SEP);
    const count = bucket.get(key);
    if (count !== undefined) bucket.set(key, count + 1);
    else if (bucket.size < MAX_DEMAND_KEYS_PER_BUCKET) bucket.set(key, 1);
  }

  /** Requests per (hex, model, version) over the window, busiest first. */
  totals(): DemandTotal[] {
    this.#dropExpired();
    const sums = new Map<string, number>();
    for (const bucket of this.#buckets.values()) {
      for (const [key, count] of bucket) sums.set(key, (sums.get(key) ?? 0) + count);
    }
    return [...sums]
      .map(([key, count]) => {
        const [cell, model, version] = key.split(SEP) as [string, string, string];
        return { cell, model, version, count };
      })
      .sort((a, b) => b.count - a.count || (a.cell + a.model < b.cell + b.model ? -1 : 1));
  }

  checkpoint(): void {
    this.#dropExpired();
    const rows: DemandRow[] = [];
    for (const [bucketStartMs, bucket] of this.#buckets) {
      for (const [key, count] of bucket) {
        const [cell, model, version] = key.split(SEP) as [string, string, string];
        rows.push({ bucketStartMs, cell, model, version, count });
      }
    }
    this.#store.saveDemand(rows);
  }

  #bucket(bucketMs: number): Map<string, number> {
    let bucket = this.#buckets.get(bucketMs);
    if (!bucket) this.#buckets.set(bucketMs, (bucket = new Map()));
    return bucket;
  }

  #dropExpired(): void {
    const oldestMs = this.#now() - DEMAND_WINDOW_MS;
    for (const bucketMs of this.#buckets.keys()) if (bucketMs + DEMAND_BUCKET_MS <= oldestMs) this.#buckets.delete(bucketMs);
  }
}
