import type {
  CoverageObservation,
  Entropy,
  LogEntry,
  LogHashKind,
  LogHeader,
  OracleTrustRecord,
  PendingRound,
  NonceClaim,
  RewardLeafRecord,
  RewardTreeInput,
  RewardTreeRecord,
  ReplayState,
  StakeEvent,
  StoredReport,
  Verdict,
  WorkRecord,
} from './records.ts';
import type { WorkTotals } from './work-totals.ts';
import type { RewardedWorkCount } from '../rewards/reward-inputs.ts';
import type { NodeEvidence } from '../trust/node-evidence.ts';

/** One verify tick's results (OracleStore.commitJudged). */
export interface JudgedBatch {
  work: WorkRecord[];
  verdicts: Verdict[];
  coverage: CoverageObservation[];
  /** The round these verdicts closed, if any. */
  closeRound?: string;
  /** The stage's cursor after this batch: the last report it read. */
  cursor?: { stage: string; seq: number };
}

/** What retention deletes in one write (RetentionStage), at most `limit` rows of each kind. */
export interface PruneOptions {
  /**
   * Reports received before `beforeMs`, never one past `maxSeq` (the verify stage's cursor: not judged
   * yet) nor from an open PoC round's beacon on (its witnesses are still to be judged with it).
   */
  reports: { beforeMs: number; maxSeq: number };
  /** Work records from before `beforeMs`, and their totals' buckets wholly before it. */
  work: { beforeMs: number };
  limit: number;
}

/**
 * One epoch's closing inputs as of one moment (SQLite: a read transaction on a connection of its own,
 * so the verify stage writing meanwhile changes nothing it sees, and the close can pause between pages
 * to let ingest run). Read in pieces, then closed; nothing here holds the epoch's records at once.
 */
export interface EpochReader {
  /** Rewarded work (unchecked or passed) per (node, model) with `atMs` in `range`, a slice of the epoch. */
  rewardedWork(range: { sinceMs: number; untilMs: number }): RewardedWorkCount[];
  /** The epoch's receipt hashes in ascending order, one at a time (the work table's key order). */
  receiptHashes(): IterableIterator<string>;
  /** The epoch's verdicts, one at a time (by time, then id). */
  verdicts(): IterableIterator<Verdict>;
  close(): void;
}

/**
 * Everything the oracle's stages keep, behind one small synchronous interface (node:sqlite and
 * Durable Object storage are both synchronous). A write returns once it is durable; nothing is
 * half-applied: a batch method writes all of its records or none.
 */
export interface OracleStore {
  /** Records (nodeId, nonce) until `expiresAtMs`; false when it is already there (a replay). */
  claimNonce(options: { nodeId: string; nonce: string; expiresAtMs: number; nowMs: number }): boolean;
  appendReports(reports: Array<Omit<StoredReport, 'seq'>>): StoredReport[];
  /**
   * Ingest's group commit: the reports of many posts and the nonces they spent, in one durable
   * transaction (one fsync), with the replay floor when it rose. All of it or none of it.
   */
  commitIngest(batch: {
    reports: Array<Omit<StoredReport, 'seq'>>;
    nonces: readonly NonceClaim[];
    replayFloorMs?: number;
    nowMs: number;
  }): StoredReport[];
  /** What ingest's in-memory replay check is rebuilt from at start: the newest `limit` unexpired nonces and the floor. */
  loadReplayState(options: { nowMs: number; limit: number }): ReplayState;
  listReports(options: { afterSeq: number; limit: number }): StoredReport[];
  /** A round's reports, oldest first; `limit` keeps only the newest that many (a hot path must not read a node's whole history). */
  listRoundReports(roundKey: string, options?: { limit?: number }): StoredReport[];

  getCursor(stage: string): number;
  setCursor(stage: string, seq: number): void;

  openRound(round: PendingRound): void;
  listDueRounds(options: { nowMs: number; limit: number }): PendingRound[];
  closeRound(roundKey: string): void;
  getLastBeaconAtMs(hotspotKey: string): number | undefined;
  setLastBeaconAtMs(hotspotKey: string, atMs: number): void;
  saveEntropy(entropy: Entropy): void;
  getEntropy(id: string): Entropy | undefined;

  /**
   * Idempotent by verdict id: a verdict saved again replaces the stored one (re-judged location and
   * challenger verdicts are). Each node's evidence (`foldVerdicts` of its verdicts) is updated in the
   * same write: the replaced version's contribution taken out, the new one's added.
   */
  saveVerdicts(verdicts: Verdict[]): void;
  /**
   * Every node's evidence as the verdicts saved so far fold to (one entry per node that has any),
   * what the score stage reads each tick instead of the verdicts: O(nodes), whatever the history.
   * The store's own objects: read them, never change them.
   */
  listNodeEvidence(): ReadonlyArray<Readonly<NodeEvidence>>;
  listVerdicts(options: { nodeId?: string; sinceMs?: number; untilMs?: number }): Verdict[];
  /**
   * One node's newest verdicts since `sinceMs`, newest first (then by id), at most `limit` (indexed: the
   * public node report must not read a busy node's whole month per request).
   */
  listRecentVerdicts(options: { nodeId: string; sinceMs: number; limit: number }): Verdict[];

  /** Idempotent by receipt hash. */
  saveWork(work: WorkRecord[]): void;
  /**
   * What one verify tick judged, in one durable transaction: work, verdicts with their nodes'
   * evidence, coverage, the round it closed and the stage's cursor past the reports it read. A crash
   * keeps all of it or none (then the reports are judged again from the old cursor; every write here
   * is idempotent), and one commit replaces one per kind of record.
   */
  commitJudged(batch: JudgedBatch): void;
  listWork(options: { sinceMs: number; untilMs: number }): WorkRecord[];
  /**
   * The work kept with `atMs` in [sinceMs, untilMs), totalled (work-totals.ts): kept up to date in the
   * same write as the work, so it costs O(seconds in the range) whatever the volume (public PoSP reads).
   */
  workTotals(range: { sinceMs: number; untilMs: number }): WorkTotals;
  /** Retention: deletes old reports and work as `options` bounds it, in one write; says how many of each. */
  prune(options: PruneOptions): { reports: number; work: number };

  /** False (and nothing written) for a slash whose evidence id was already slashed. */
  appendStakeEvent(event: Omit<StakeEvent, 'seq'>): boolean;
  listStakeEvents(nodeId?: string): StakeEvent[];

  saveTrust(record: OracleTrustRecord): void;
  listTrust(): OracleTrustRecord[];
  /** One node's trust record by its key (indexed: ingest and checker choice ask per report). */
  getTrust(nodeId: string): OracleTrustRecord | undefined;

  saveCoverage(observations: CoverageObservation[]): void;
  listCoverage(options: { sinceMs: number }): CoverageObservation[];

  /**
   * Appends a whole epoch (hash lists and header) in one write; refuses (throws) an entry whose
   * prevLogRoot is not the last root. For small epochs and tests: the reward stage streams instead
   * (`readEpoch`, `appendLogHashes`, `commitLogHeader`).
   */
  appendLogEntry(entry: LogEntry): void;
  /** A consistent view of one epoch's work and verdicts for closing it (EpochReader). */
  readEpoch(range: { sinceMs: number; untilMs: number }): EpochReader;
  /**
   * Appends the next page of an epoch's hash list before its header is committed: `fromIndex` must be
   * where the list ends so far (no gap, no overlap), hashes 64 hex digits, and the epoch not closed yet.
   * Several writes, so a close never holds one write open for millions of rows.
   */
  appendLogHashes(page: {
    epoch: number;
    kind: LogHashKind;
    fromIndex: number;
    hashes: readonly string[];
  }): void;
  /** Deletes the hash lists of an epoch that has no header (what an interrupted close left); throws for a closed one. */
  discardLogHashes(epoch: number): void;
  /**
   * Closes an epoch in the log: its header, chained from the last one (throws otherwise), once its
   * hash lists hold exactly `counts` hashes each; the hash lists are readable from then on.
   */
  commitLogHeader(header: LogHeader, counts: Readonly<Record<LogHashKind, number>>): void;
  /**
   * A page of a closed epoch's hash list from `fromIndex`, in list order (exports read an epoch page by
   * page). Throws for an epoch whose lists were pruned: they live only in its exported file then.
   */
  listLogHashes(options: { epoch: number; kind: LogHashKind; fromIndex: number; limit: number }): string[];
  /**
   * Deletes up to `limit` rows of a closed epoch's hash lists, once its exported file holds them
   * (log-export.ts, `pruneExportedLogHashes`); returns how many it deleted (0: none left). From the
   * first call the epoch counts as pruned, so no reader ever gets part of a list.
   */
  pruneLogHashes(epoch: number, limit: number): number;
  /** Closed epochs before `beforeEpoch` whose hash lists are still held, oldest first, at most `limit`. */
  listUnprunedLogEpochs(options: { beforeEpoch: number; limit: number }): number[];
  /** Closed epochs' headers from `fromEpoch` on, oldest first, at most `limit`. */
  listLogHeaders(options: { fromEpoch: number; limit: number }): LogHeader[];
  /**
   * One epoch's entry without its hash lists (indexed, and kept apart from them: an epoch's receipt
   * hashes are megabytes at scale, and a public manifest or proof request must not read them).
   */
  getLogHeader(epoch: number): LogHeader | undefined;
  /** The last `limit` epochs' headers, oldest first (the reward stage's last epoch, the node report's history). */
  listRecentLogHeaders(limit: number): LogHeader[];

  /**
   * Keeps a closed epoch's reward tree (its entries by node and its Merkle levels), all of it or none;
   * false (and nothing written) when the epoch's tree is already kept: a published epoch never changes.
   */
  saveRewardTree(tree: RewardTreeInput): boolean;
  /** A kept tree's root and leaf count, or undefined (not closed, or not kept yet: a store from before). */
  getRewardTree(epoch: number): RewardTreeRecord | undefined;
  /** One node's entry and leaf index in a kept tree (indexed by epoch and node). */
  getRewardLeaf(options: { epoch: number; nodeId: string }): RewardLeafRecord | undefined;
  /**
   * Hashes of a kept tree at (level, index), level 0 the leaves' (indexed point reads: a proof asks one
   * per level). Throws for a position the tree does not have.
   */
  getMerkleHashes(options: {
    epoch: number;
    positions: ReadonlyArray<{ level: number; index: number }>;
  }): Uint8Array[];
}
