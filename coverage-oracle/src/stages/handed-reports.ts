import type { StoredReport } from '../store/records.ts';

/**
 * Reports held in memory at most for the verify stage (~3.2 KB of heap each, measured on forwarded
 * receipt reports: ~13 MB): what arrives while the stage rests between ticks (idleMs, 1 s by default) at
 * up to ~4 000 receipts/s. Past it, newer commits are not kept and the stage reads them back from the
 * store once it gets there.
 */
export const DEFAULT_MAX_HANDED_REPORTS = 4096;

/**
 * The reports ingest has just made durable, handed to the verify stage in memory so it need not read
 * them back from the store and parse their JSON again (~12 µs a receipt on SQLite). Only a hint: the
 * store stays the truth. `take` answers only a run of seqs that continues the stage's cursor without
 * a gap; otherwise (after a restart, when the stage lags past the bound, when reports came by another
 * path) it answers undefined and the stage reads the store, as it always did. The objects are those
 * the store was given and answered with, equal to what it would read back.
 */
export class HandedReports {
  readonly #max: number;
  #reports: StoredReport[] = [];
  /** Reports taken from memory, and the times the stage was sent to the store instead (tests, metrics). */
  readonly stats = { taken: 0, storeReads: 0 };

  constructor(options: { maxReports?: number } = {}) {
    this.#max = Math.max(1, options.maxReports ?? DEFAULT_MAX_HANDED_REPORTS);
  }

  get size(): number {
    return this.#reports.length;
  }

  /** Keeps one commit's reports (in seq order), unless that would pass the bound: then the store has them. */
  offer(stored: readonly StoredReport[]): void {
    if (this.#reports.length + stored.length > this.#max) return;
    for (const r of stored) this.#reports.push(r);
  }

  /**
   * Up to `limit` reports right after `afterSeq`, in seq order, when memory holds them without a gap;
   * otherwise undefined (read the store). What is at or before `afterSeq` is dropped: judged already.
   */
  take(afterSeq: number, limit: number): StoredReport[] | undefined {
    const held = this.#reports;
    let judged = 0;
    while (judged < held.length && held[judged]!.seq <= afterSeq) judged++;
    if (judged) held.splice(0, judged);
    if (held.length === 0 || held[0]!.seq !== afterSeq + 1) {
      this.stats.storeReads++;
      return undefined;
    }
    let n = 1;
    while (n < held.length && n < limit && held[n]!.seq === held[n - 1]!.seq + 1) n++;
    this.stats.taken += n;
    // Left in place until the cursor passes them: a failed commit of the judged batch re-takes them.
    return held.slice(0, n);
  }
}
