import type { WorkRecord } from './records.ts';
import {
  addTotals,
  addWork,
  emptyWorkTotals,
  splitRange,
  totalsByBucket,
  WORK_TOTALS_BUCKET_MS,
  type WorkTotals,
} from './work-totals.ts';

/** The memory store's work records and their running totals per second (work-totals.ts). */
export class MemoryWorkData {
  readonly #work = new Map<string, WorkRecord>();
  readonly #totals = new Map<number, WorkTotals>();

  /** Idempotent by receipt hash: only new work is kept and totalled. */
  save(work: readonly WorkRecord[]): void {
    const inserted: WorkRecord[] = [];
    for (const w of work) {
      if (this.#work.has(w.receiptHash)) continue;
      this.#work.set(w.receiptHash, { ...w });
      inserted.push(w);
    }
    for (const [bucket, t] of totalsByBucket(inserted))
      this.#totals.set(bucket, addTotals(this.#totals.get(bucket) ?? emptyWorkTotals(), t));
  }

  list(range: { sinceMs: number; untilMs: number }): WorkRecord[] {
    return [...this.#work.values()].filter((w) => w.atMs >= range.sinceMs && w.atMs < range.untilMs);
  }

  totals(range: { sinceMs: number; untilMs: number }): WorkTotals {
    const { whole, edges } = splitRange(range);
    const sum = emptyWorkTotals();
    for (const [bucket, t] of this.#totals)
      if (bucket >= whole.firstBucket && bucket < whole.endBucket) addTotals(sum, t);
    for (const edge of edges) for (const w of this.list(edge)) addWork(sum, w);
    return sum;
  }

  /** Work from before `beforeMs` (at most `limit`), and the buckets wholly before it. */
  prune(options: { beforeMs: number; limit: number }): number {
    let deleted = 0;
    for (const [hash, w] of this.#work) {
      if (deleted >= options.limit) break;
      if (w.atMs < options.beforeMs) {
        this.#work.delete(hash);
        deleted++;
      }
    }
    const firstKept = Math.floor(options.beforeMs / WORK_TOTALS_BUCKET_MS);
    for (const bucket of this.#totals.keys()) if (bucket < firstKept) this.#totals.delete(bucket);
    return deleted;
  }
}
