import type { OracleStore } from '../store/oracle-store.ts';
import type { Stage } from './stage.ts';

/** How often retention looks for old reports and work when the last look found no backlog. */
export const RETENTION_INTERVAL_MS = 10_000;
/**
 * Rows of each kind one prune deletes at most: one short write (~20 000 rows of ~2.5 KB), so a
 * backlog (an oracle upgraded onto a year of reports) is worked off between ingest commits instead of
 * holding the writer for minutes.
 */
export const RETENTION_BATCH_ROWS = 20_000;

export interface RetentionStageOptions {
  store: OracleStore;
  /** Reports are deleted once judged and this old. */
  reportRetentionMs: number;
  /** Work records this old are deleted, never those of an epoch not closed yet nor of the last closed one. */
  workRetentionMs: number;
  /** The last report the verify stage judged (its cursor): nothing after it is deleted. */
  judgedThroughSeq: () => number;
}

/**
 * Retention: the raw reports and per-receipt work the pipeline no longer reads are deleted, so an
 * oracle's disk holds a bounded window of them at a steady rate instead of growing with every answer
 * the fabric gives (~2.8 KB per receipt: 400 GB a day at 1 700 answers a second). What stays forever
 * is what the pipeline made of them: verdicts with their evidence, trust, stake, the signed manifests
 * and the provenance log with every epoch's receipt hashes. A report is kept until the verify stage
 * judged it and any PoC round it may belong to closed; work until its epoch and the one after closed,
 * so rewards and PoSP read whole epochs. Deleted pages are reused by SQLite, so the file stops growing.
 */
export class RetentionStage implements Stage {
  readonly name = 'retention';
  readonly #o: RetentionStageOptions;
  #nextAtMs = Number.NEGATIVE_INFINITY;
  /** Rows deleted since start (tests, logs). */
  readonly stats = { reports: 0, work: 0, prunes: 0 };

  constructor(options: RetentionStageOptions) {
    this.#o = options;
  }

  /** Always says 0 handled, so its loop rests between batches and never keeps the event loop. */
  async tick(nowMs: number): Promise<number> {
    if (nowMs < this.#nextAtMs) return 0;
    const { store } = this.#o;
    const lastClosed = store.listRecentLogHeaders(1).at(-1);
    const pruned = store.prune({
      reports: { beforeMs: nowMs - this.#o.reportRetentionMs, maxSeq: this.#o.judgedThroughSeq() },
      work: {
        beforeMs: lastClosed
          ? Math.min(nowMs - this.#o.workRetentionMs, lastClosed.startMs)
          : Number.MIN_SAFE_INTEGER,
      },
      limit: RETENTION_BATCH_ROWS,
    });
    this.stats.reports += pruned.reports;
    this.stats.work += pruned.work;
    this.stats.prunes++;
    // A full batch means more is due: look again after the loop's rest, not the whole interval.
    const backlog = pruned.reports === RETENTION_BATCH_ROWS || pruned.work === RETENTION_BATCH_ROWS;
    this.#nextAtMs = backlog ? nowMs : nowMs + RETENTION_INTERVAL_MS;
    return 0;
  }
}
