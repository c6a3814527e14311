import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { WorkRecord } from '../store/records.ts';
import {
  addWork,
  emptyWorkTotals,
  splitRange,
  totalsByBucket,
  WORK_TOTALS_BUCKET_MS,
  type WorkTotals,
} from '../store/work-totals.ts';

const totalsOf = (row: Record<string, unknown> | undefined): WorkTotals =>
  row
    ? {
        requests: Number(row.requests ?? 0),
        rewardedRequests: Number(row.rewarded ?? 0),
        inferenceMs: Number(row.inference_ms ?? 0),
        checkerMs: Number(row.checker_ms ?? 0),
        refereeMs: Number(row.referee_ms ?? 0),
      }
    : emptyWorkTotals();

/**
 * The SQLite store's per-receipt data over time: the work rows' running totals per second
 * (`work_totals`, work-totals.ts) and what retention deletes (old reports, old work and their totals).
 * Every method runs inside the caller's transaction where it writes.
 */
export class SqliteWorkData {
  readonly #q: Record<string, StatementSync>;

  /** Creates the totals table; a store from before it has its work totalled once, here. */
  constructor(db: DatabaseSync) {
    const existed = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'work_totals'")
      .get();
    if (!existed) {
      // One write (one fsync) for the table and, for a store with work from before it, its totals.
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(`CREATE TABLE work_totals (bucket INTEGER PRIMARY KEY, requests INTEGER NOT NULL, rewarded INTEGER NOT NULL,
          inference_ms REAL NOT NULL, checker_ms REAL NOT NULL, referee_ms REAL NOT NULL) STRICT`);
        // isRewardedStatus in SQL: no status, unchecked or pass.
        if (db.prepare('SELECT 1 FROM work LIMIT 1').get())
          db.exec(`INSERT INTO work_totals (bucket, requests, rewarded, inference_ms, checker_ms, referee_ms)
            SELECT at_ms / ${WORK_TOTALS_BUCKET_MS}, count(*),
              sum(coalesce(json_extract(json, '$.status'), 'unchecked') IN ('unchecked', 'pass')),
              total(json_extract(json, '$.serviceTimeMs')), total(json_extract(json, '$.checkerMs')),
              total(json_extract(json, '$.refereeMs'))
            FROM work GROUP BY at_ms / ${WORK_TOTALS_BUCKET_MS}`);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    }
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      addTotals: p(`INSERT INTO work_totals (bucket, requests, rewarded, inference_ms, checker_ms, referee_ms)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET requests = requests + excluded.requests,
        rewarded = rewarded + excluded.rewarded, inference_ms = inference_ms + excluded.inference_ms,
        checker_ms = checker_ms + excluded.checker_ms, referee_ms = referee_ms + excluded.referee_ms`),
      sumTotals: p(`SELECT sum(requests) requests, sum(rewarded) rewarded, total(inference_ms) inference_ms,
        total(checker_ms) checker_ms, total(referee_ms) referee_ms FROM work_totals WHERE bucket >= ? AND bucket < ?`),
      workIn: p('SELECT json FROM work WHERE at_ms >= ? AND at_ms < ?'),
      // The oldest reports first; never past the verify cursor nor from an open PoC round's beacon on.
      // Their age from the column; a row from before it (NULL there) from its JSON.
      pruneReports: p(`DELETE FROM reports WHERE seq IN (SELECT seq FROM reports WHERE seq <= ?
          AND seq < coalesce((SELECT min(beacon_seq) FROM rounds), 9223372036854775807) ORDER BY seq LIMIT ?)
        AND coalesce(received_at_ms, json_extract(json, '$.receivedAtMs')) < ?`),
      pruneWork: p(
        'DELETE FROM work WHERE rowid IN (SELECT rowid FROM work WHERE at_ms < ? ORDER BY at_ms LIMIT ?)',
      ),
      pruneTotals: p('DELETE FROM work_totals WHERE bucket < ?'),
    };
  }

  /** Adds the work rows this write really inserted to their buckets. */
  add(inserted: readonly WorkRecord[]): void {
    for (const [bucket, t] of totalsByBucket(inserted))
      this.#q.addTotals!.run(bucket, t.requests, t.rewardedRequests, t.inferenceMs, t.checkerMs, t.refereeMs);
  }

  totals(range: { sinceMs: number; untilMs: number }): WorkTotals {
    const { whole, edges } = splitRange(range);
    const sum = totalsOf(this.#q.sumTotals!.get(whole.firstBucket, whole.endBucket));
    for (const edge of edges)
      for (const row of this.#q.workIn!.all(edge.sinceMs, edge.untilMs))
        addWork(sum, JSON.parse(row.json as string) as WorkRecord);
    return sum;
  }

  pruneReports(options: { beforeMs: number; maxSeq: number; limit: number }): number {
    return Number(this.#q.pruneReports!.run(options.maxSeq, options.limit, options.beforeMs).changes);
  }

  /** Work from before `beforeMs`, and the buckets wholly before it. */
  pruneWork(options: { beforeMs: number; limit: number }): number {
    const deleted = Number(this.#q.pruneWork!.run(options.beforeMs, options.limit).changes);
    this.#q.pruneTotals!.run(Math.floor(options.beforeMs / WORK_TOTALS_BUCKET_MS));
    return deleted;
  }
}
