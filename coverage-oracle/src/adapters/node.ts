import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { NodeEvidence } from '../trust/node-evidence.ts';
import { SqliteVerdictEvidence } from './sqlite-evidence.ts';
import { SqliteEpochReader } from './sqlite-epoch-reader.ts';
import { SqliteProvenanceLog } from './sqlite-log.ts';
import { SqliteRewardTrees } from './sqlite-reward-trees.ts';
import { createOracleTables, prepareOracleStatements } from './sqlite-schema.ts';
import { SqliteWorkData } from './sqlite-work-data.ts';
import type { WorkTotals } from '../store/work-totals.ts';
import type { EpochReader, JudgedBatch, OracleStore, PruneOptions } from '../store/oracle-store.ts';
import type {
  CoverageObservation,
  Entropy,
  LogEntry,
  LogHashKind,
  LogHeader,
  NonceClaim,
  OracleTrustRecord,
  PendingRound,
  ReplayState,
  RewardLeafRecord,
  RewardTreeInput,
  RewardTreeRecord,
  StakeEvent,
  StoredReport,
  Verdict,
  WorkRecord,
} from '../store/records.ts';

/** Expired nonce rows are deleted inside an ingest commit at most this often (one indexed range delete). */
const NONCE_PRUNE_INTERVAL_MS = 60_000;

/**
 * OracleStore on SQLite (`node:sqlite`). WAL lets readers run beside the writer; synchronous=FULL makes
 * each commit durable before it returns, so an accepted report, a spent nonce or a slash survives a
 * power cut. Records are JSON text; the columns beside them exist only to be queried.
 */
export class SqliteOracleStore implements OracleStore {
  readonly #db: DatabaseSync;
  readonly #q: Record<string, StatementSync>;
  readonly #evidence: SqliteVerdictEvidence;
  readonly #rewardTrees: SqliteRewardTrees;
  readonly #workData: SqliteWorkData;
  readonly #log: SqliteProvenanceLog;
  readonly #path: string;

  constructor(options: { path: string }) {
    this.#db = new DatabaseSync(options.path);
    createOracleTables(this.#db);
    this.#q = prepareOracleStatements(this.#db);
    this.#evidence = new SqliteVerdictEvidence(this.#db, (write) => this.#transaction(write));
    this.#rewardTrees = new SqliteRewardTrees(this.#db, (write) => this.#transaction(write));
    this.#workData = new SqliteWorkData(this.#db);
    this.#log = new SqliteProvenanceLog(this.#db, (write) => this.#transaction(write));
    this.#path = options.path;
  }

  close(): void {
    this.#db.close();
  }

  /** All of `write` commits, or none of it. */
  #transaction<T>(write: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = write();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  claimNonce(options: { nodeId: string; nonce: string; expiresAtMs: number; nowMs: number }): boolean {
    if (Math.random() < 1 / 4096) this.#q.pruneNonces!.run(options.nowMs);
    return (
      Number(
        this.#q.claimNonce!.run(options.nodeId, options.nonce, options.expiresAtMs, options.nowMs).changes,
      ) === 1
    );
  }

  appendReports(reports: Array<Omit<StoredReport, 'seq'>>): StoredReport[] {
    return this.#transaction(() =>
      reports.map((r) => {
        const seq = Number(
          this.#q.insertReport!.run(r.roundKey ?? null, r.receivedAtMs, JSON.stringify(r)).lastInsertRowid,
        );
        return { ...structuredClone(r), seq };
      }),
    );
  }

  #lastNoncePruneMs = 0;
  /** Reports and nonce rows of one ingest group commit: one transaction, one fsync (synchronous=FULL). */
  commitIngest(batch: {
    reports: Array<Omit<StoredReport, 'seq'>>;
    nonces: readonly NonceClaim[];
    replayFloorMs?: number;
    nowMs: number;
  }): StoredReport[] {
    return this.#transaction(() => {
      if (batch.nowMs - this.#lastNoncePruneMs >= NONCE_PRUNE_INTERVAL_MS) {
        this.#q.pruneNonces!.run(batch.nowMs);
        this.#q.pruneIngestNonces!.run(batch.nowMs);
        this.#lastNoncePruneMs = batch.nowMs;
      }
      for (const n of batch.nonces) this.#q.putIngestNonce!.run(n.nodeId, n.nonce, n.expiresAtMs);
      if (batch.replayFloorMs !== undefined) this.#q.raiseState!.run('replay_floor_ms', batch.replayFloorMs);
      // The records are the caller's and not kept by it (ingest hands them over), so no copy is made.
      return batch.reports.map((r) => ({
        ...r,
        seq: Number(
          this.#q.insertReport!.run(r.roundKey ?? null, r.receivedAtMs, JSON.stringify(r)).lastInsertRowid,
        ),
      }));
    });
  }

  loadReplayState(options: { nowMs: number; limit: number }): ReplayState {
    const nonces = this.#q.liveNonces!.all(options.nowMs, options.limit).map((r) => ({
      nodeId: r.node_id as string,
      nonce: r.nonce as string,
      expiresAtMs: Number(r.expires_at_ms),
    }));
    return { nonces, floorMs: Number(this.#q.getState!.get('replay_floor_ms')?.value ?? 0) };
  }

  #reports(rows: Array<Record<string, unknown>>): StoredReport[] {
    return rows.map((row) => ({
      ...(JSON.parse(row.json as string) as Omit<StoredReport, 'seq'>),
      seq: Number(row.seq),
    }));
  }

  listReports(options: { afterSeq: number; limit: number }): StoredReport[] {
    return this.#reports(this.#q.listReports!.all(options.afterSeq, options.limit));
  }

  listRoundReports(roundKey: string, options: { limit?: number } = {}): StoredReport[] {
    if (options.limit !== undefined)
      return this.#reports(this.#q.recentRoundReports!.all(roundKey, options.limit));
    return this.#reports(this.#q.roundReports!.all(roundKey));
  }

  getCursor(stage: string): number {
    return Number(this.#q.getCursor!.get(stage)?.seq ?? 0);
  }

  setCursor(stage: string, seq: number): void {
    this.#q.setCursor!.run(stage, seq);
  }

  openRound(round: PendingRound): void {
    this.#q.openRound!.run(round.roundKey, round.beaconSeq, round.closesAtMs);
  }

  listDueRounds(options: { nowMs: number; limit: number }): PendingRound[] {
    return this.#q.dueRounds!.all(options.nowMs, options.limit).map((r) => ({
      roundKey: r.round_key as string,
      beaconSeq: Number(r.beacon_seq),
      closesAtMs: Number(r.closes_at_ms),
    }));
  }

  closeRound(roundKey: string): void {
    this.#q.closeRound!.run(roundKey);
  }

  getLastBeaconAtMs(hotspotKey: string): number | undefined {
    const row = this.#q.getLastBeacon!.get(hotspotKey);
    return row ? Number(row.at_ms) : undefined;
  }

  setLastBeaconAtMs(hotspotKey: string, atMs: number): void {
    this.#q.setLastBeacon!.run(hotspotKey, atMs);
  }

  saveEntropy(entropy: Entropy): void {
    this.#q.saveEntropy!.run(entropy.id, entropy.startMs);
  }

  getEntropy(id: string): Entropy | undefined {
    const row = this.#q.getEntropy!.get(id);
    return row ? { id: row.id as string, startMs: Number(row.start_ms) } : undefined;
  }

  /** Verdicts and their nodes' evidence in one transaction (a crash loses neither alone). */
  saveVerdicts(verdicts: Verdict[]): void {
    this.#evidence.committed(this.#transaction(() => this.#evidence.save(verdicts)));
  }

  listNodeEvidence(): ReadonlyArray<Readonly<NodeEvidence>> {
    return this.#evidence.list();
  }

  listVerdicts(options: { nodeId?: string; sinceMs?: number; untilMs?: number }): Verdict[] {
    const since = options.sinceMs ?? Number.MIN_SAFE_INTEGER;
    const until = options.untilMs ?? Number.MAX_SAFE_INTEGER;
    const rows =
      options.nodeId === undefined
        ? this.#q.listVerdicts!.all(since, until)
        : this.#q.listNodeVerdicts!.all(options.nodeId, since, until);
    return rows.map((r) => JSON.parse(r.json as string) as Verdict);
  }

  listRecentVerdicts(options: { nodeId: string; sinceMs: number; limit: number }): Verdict[] {
    return this.#q
      .recentNodeVerdicts!.all(options.nodeId, options.sinceMs, options.limit)
      .map((r) => JSON.parse(r.json as string) as Verdict);
  }

  saveWork(work: WorkRecord[]): void {
    this.#transaction(() => this.#insertWork(work));
  }

  /** Inserts new work (idempotent by receipt hash) and adds what was new to the running totals. */
  #insertWork(work: readonly WorkRecord[]): void {
    const inserted = work.filter(
      (w) => Number(this.#q.saveWork!.run(w.receiptHash, w.atMs, JSON.stringify(w)).changes) === 1,
    );
    this.#workData.add(inserted);
  }

  workTotals(range: { sinceMs: number; untilMs: number }): WorkTotals {
    return this.#workData.totals(range);
  }

  prune(options: PruneOptions): { reports: number; work: number } {
    return this.#transaction(() => ({
      reports: this.#workData.pruneReports({ ...options.reports, limit: options.limit }),
      work: this.#workData.pruneWork({ ...options.work, limit: options.limit }),
    }));
  }

  commitJudged(batch: JudgedBatch): void {
    const evidence = this.#transaction(() => {
      this.#insertWork(batch.work);
      const working = batch.verdicts.length ? this.#evidence.save(batch.verdicts) : undefined;
      for (const o of batch.coverage) this.#q.saveCoverage!.run(o.atMs, JSON.stringify(o));
      if (batch.closeRound !== undefined) this.#q.closeRound!.run(batch.closeRound);
      if (batch.cursor) this.#q.setCursor!.run(batch.cursor.stage, batch.cursor.seq);
      return working;
    });
    if (evidence) this.#evidence.committed(evidence);
  }

  listWork(options: { sinceMs: number; untilMs: number }): WorkRecord[] {
    return this.#q
      .listWork!.all(options.sinceMs, options.untilMs)
      .map((r) => JSON.parse(r.json as string) as WorkRecord);
  }

  appendStakeEvent(event: Omit<StakeEvent, 'seq'>): boolean {
    return (
      Number(
        this.#q.insertStake!.run(event.nodeId, event.type, event.evidenceId ?? null, JSON.stringify(event))
          .changes,
      ) === 1
    );
  }

  listStakeEvents(nodeId?: string): StakeEvent[] {
    const rows = nodeId === undefined ? this.#q.listStake!.all() : this.#q.listNodeStake!.all(nodeId);
    return rows.map((r) => ({
      ...(JSON.parse(r.json as string) as Omit<StakeEvent, 'seq'>),
      seq: Number(r.seq),
    }));
  }

  saveTrust(record: OracleTrustRecord): void {
    this.#q.saveTrust!.run(record.nodeId, JSON.stringify(record));
  }

  listTrust(): OracleTrustRecord[] {
    return this.#q.listTrust!.all().map((r) => JSON.parse(r.json as string) as OracleTrustRecord);
  }

  getTrust(nodeId: string): OracleTrustRecord | undefined {
    const row = this.#q.getTrust!.get(nodeId);
    return row ? (JSON.parse(row.json as string) as OracleTrustRecord) : undefined;
  }

  saveCoverage(observations: CoverageObservation[]): void {
    this.#transaction(() =>
      observations.forEach((o) => this.#q.saveCoverage!.run(o.atMs, JSON.stringify(o))),
    );
  }

  listCoverage(options: { sinceMs: number }): CoverageObservation[] {
    return this.#q
      .listCoverage!.all(options.sinceMs)
      .map((r) => JSON.parse(r.json as string) as CoverageObservation);
  }

  appendLogEntry(entry: LogEntry): void {
    this.#log.appendEntry(entry);
  }

  readEpoch(range: { sinceMs: number; untilMs: number }): EpochReader {
    return new SqliteEpochReader({ path: this.#path, range });
  }

  appendLogHashes(page: {
    epoch: number;
    kind: LogHashKind;
    fromIndex: number;
    hashes: readonly string[];
  }): void {
    this.#log.appendHashes(page);
  }

  discardLogHashes(epoch: number): void {
    this.#log.discardHashes(epoch);
  }

  commitLogHeader(header: LogHeader, counts: Readonly<Record<LogHashKind, number>>): void {
    this.#log.commitHeader(header, counts);
  }

  listLogHashes(options: { epoch: number; kind: LogHashKind; fromIndex: number; limit: number }): string[] {
    return this.#log.listHashes(options);
  }

  pruneLogHashes(epoch: number, limit: number): number {
    return this.#log.pruneHashes(epoch, limit);
  }

  listUnprunedLogEpochs(options: { beforeEpoch: number; limit: number }): number[] {
    return this.#log.unprunedEpochs(options);
  }

  listLogHeaders(options: { fromEpoch: number; limit: number }): LogHeader[] {
    return this.#log.listHeaders(options);
  }

  getLogHeader(epoch: number): LogHeader | undefined {
    return this.#log.getHeader(epoch);
  }

  listRecentLogHeaders(limit: number): LogHeader[] {
    return this.#log.recentHeaders(limit);
  }

  saveRewardTree(tree: RewardTreeInput): boolean {
    return this.#rewardTrees.save(tree);
  }

  getRewardTree(epoch: number): RewardTreeRecord | undefined {
    return this.#rewardTrees.get(epoch);
  }

  getRewardLeaf(options: { epoch: number; nodeId: string }): RewardLeafRecord | undefined {
    return this.#rewardTrees.leaf(options);
  }

  getMerkleHashes(options: {
    epoch: number;
    positions: ReadonlyArray<{ level: number; index: number }>;
  }): Uint8Array[] {
    return this.#rewardTrees.hashes(options);
  }
}

// SHA-256 through node:crypto (one-shot; `utf8` for leaf text): batch proofs at ingest cost ~1 µs a hash.
export { nodeSha256Hex } from '@hexedge/protocol/node';
// The data directory's other files, in their own modules (re-exported: importers keep this path).
export { exportLogFiles, pruneExportedLogHashes } from './log-export.ts';
export { loadOrCreateOracleKey, ORACLE_KEY_FILE } from './oracle-key.ts';
