import { DatabaseSync } from 'node:sqlite';
import type { RewardedWorkCount } from '../rewards/reward-inputs.ts';
import type { EpochReader } from '../store/oracle-store.ts';
import type { Verdict } from '../store/records.ts';

/**
 * An epoch's closing inputs read from a connection of its own, inside one read transaction: in WAL
 * mode it sees the store as of `open` while the store's connection goes on writing, so the close can
 * pause between pages (ingest and verify run meanwhile) and still read one consistent epoch. The
 * snapshot keeps the WAL from being checkpointed past it until `close`, so the WAL grows by what is
 * written meanwhile (a close of a few minutes at full load: a few hundred MB, reused afterwards).
 */
export class SqliteEpochReader implements EpochReader {
  readonly #db: DatabaseSync;
  readonly #range: { sinceMs: number; untilMs: number };

  constructor(options: { path: string; range: { sinceMs: number; untilMs: number } }) {
    this.#db = new DatabaseSync(options.path, { readOnly: true });
    this.#range = options.range;
    this.#db.exec('BEGIN');
    // The snapshot starts with the first read, so take it now, not when the first page is asked for.
    this.#db.prepare('SELECT 1 FROM work LIMIT 1').get();
  }

  /**
   * Grouped in SQL (isRewardedStatus: no status, unchecked or pass): a slice costs one pass over its
   * rows by the time index and returns O(nodes × models) rows; the caller slices the epoch so that no
   * one call holds the thread long.
   */
  rewardedWork(range: { sinceMs: number; untilMs: number }): RewardedWorkCount[] {
    return this.#db
      .prepare(
        `SELECT json ->> 'nodeId' AS node_id, json ->> 'modelName' AS model_name, count(*) AS n FROM work
         WHERE at_ms >= ? AND at_ms < ? AND coalesce(json ->> 'status', 'unchecked') IN ('unchecked', 'pass')
         GROUP BY node_id, model_name`,
      )
      .all(range.sinceMs, range.untilMs)
      .map((r) => ({
        nodeId: String(r.node_id),
        modelName: String(r.model_name),
        rewardedRequests: Number(r.n),
      }));
  }

  /**
   * In the primary key's order (no sort: the work table's key is the receipt hash). Only this epoch's
   * rows are wanted, and checking a row's time costs a table read, so the scan is first bounded by the
   * rowids the epoch's rows have (read off the time index; SQLite tests a rowid bound on the index
   * entry before reading the row), which skips the other epochs retention still keeps.
   */
  *receiptHashes(): IterableIterator<string> {
    const { sinceMs, untilMs } = this.#range;
    const bounds = this.#db
      .prepare('SELECT min(rowid) AS lo, max(rowid) AS hi FROM work WHERE at_ms >= ? AND at_ms < ?')
      .get(sinceMs, untilMs);
    if (bounds?.lo === null || bounds?.lo === undefined) return;
    const rows = this.#db
      .prepare(
        `SELECT receipt_hash FROM work INDEXED BY sqlite_autoindex_work_1
         WHERE rowid BETWEEN ? AND ? AND at_ms >= ? AND at_ms < ? ORDER BY receipt_hash`,
      )
      .iterate(bounds.lo, bounds.hi, sinceMs, untilMs);
    for (const row of rows) yield row.receipt_hash as string;
  }

  *verdicts(): IterableIterator<Verdict> {
    const rows = this.#db
      .prepare('SELECT json FROM verdicts WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms, id')
      .iterate(this.#range.sinceMs, this.#range.untilMs);
    for (const row of rows) yield JSON.parse(row.json as string) as Verdict;
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#db.exec('COMMIT');
    this.#db.close();
  }
}
