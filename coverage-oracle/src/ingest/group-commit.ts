import { storageUnavailable } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';
import type { NonceClaim, StoredReport } from '../store/records.ts';

/** How long accepted reports wait for others to share their commit: one fsync per this many ms at most. */
export const DEFAULT_INGEST_COMMIT_DELAY_MS = 2;
/** Reports one commit holds at most; a full group is committed at once. */
export const DEFAULT_INGEST_COMMIT_REPORTS = 4096;

interface Group {
  reports: Array<Omit<StoredReport, 'seq'>>;
  nonces: readonly NonceClaim[];
  resolve: (stored: StoredReport[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for ingest: the accepted reports of every post that finishes checking within a few
 * milliseconds are written with their nonces in one transaction, and each post is answered only once
 * that transaction is durable. What a crash can lose is therefore only what nobody was told was kept.
 */
export class IngestCommitter {
  readonly #store: OracleStore;
  readonly #delayMs: number;
  readonly #maxReports: number;
  readonly #now: () => number;
  readonly #floor: () => number | undefined;
  readonly #onCommitted: ((stored: readonly StoredReport[]) => void) | undefined;
  #groups: Group[] = [];
  #queued = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Commits and the reports they held (tests and metrics: many reports, few commits). */
  readonly stats = { commits: 0, reports: 0 };

  constructor(options: {
    store: OracleStore;
    delayMs?: number;
    maxReports?: number;
    nowMs?: () => number;
    /** The replay floor to persist with the next commit, if it rose (ReplayGuard.takeUnsavedFloor). */
    unsavedFloor?: () => number | undefined;
    /** Told each durable commit's reports, in seq order, before any post is answered (the verify stage's hand-off). */
    onCommitted?: (stored: readonly StoredReport[]) => void;
  }) {
    this.#store = options.store;
    this.#delayMs = Math.max(0, options.delayMs ?? DEFAULT_INGEST_COMMIT_DELAY_MS);
    this.#maxReports = Math.max(1, options.maxReports ?? DEFAULT_INGEST_COMMIT_REPORTS);
    this.#now = options.nowMs ?? Date.now;
    this.#floor = options.unsavedFloor ?? (() => undefined);
    this.#onCommitted = options.onCommitted;
  }

  /** Settles with the stored reports once they are durable; rejects (STORAGE_UNAVAILABLE) when the commit failed. */
  commit(reports: Array<Omit<StoredReport, 'seq'>>, nonces: readonly NonceClaim[]): Promise<StoredReport[]> {
    return new Promise((resolve, reject) => {
      this.#groups.push({ reports, nonces, resolve, reject });
      this.#queued += reports.length;
      if (this.#queued >= this.#maxReports) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#delayMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const groups = this.#groups;
    this.#groups = [];
    this.#queued = 0;
    if (groups.length === 0) return;
    const floor = this.#floor();
    let stored: StoredReport[];
    try {
      stored = this.#store.commitIngest({
        reports: groups.flatMap((g) => g.reports),
        nonces: groups.flatMap((g) => g.nonces),
        ...(floor !== undefined ? { replayFloorMs: floor } : {}),
        nowMs: this.#now(),
      });
    } catch (err) {
      const refusal = storageUnavailable('reports', err);
      for (const g of groups) g.reject(refusal);
      return;
    }
    this.stats.commits++;
    this.stats.reports += stored.length;
    this.#onCommitted?.(stored);
    let at = 0;
    for (const g of groups) {
      g.resolve(stored.slice(at, at + g.reports.length));
      at += g.reports.length;
    }
  }
}
