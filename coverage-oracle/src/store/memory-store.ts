import { HexEdgeError } from '@hexedge/protocol';
import { MemoryWorkData } from './memory-work-data.ts';
import type { EpochReader, JudgedBatch, OracleStore, PruneOptions } from './oracle-store.ts';
import { MemoryProvenanceLog } from './memory-log.ts';
import { countRewardedWork } from '../rewards/reward-inputs.ts';
import type { WorkTotals } from './work-totals.ts';
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
import { emptyEvidence, foldVerdicts, replaceInEvidence, type NodeEvidence } from '../trust/node-evidence.ts';

/** Genesis: the log root an epoch-0 entry chains from. */
export const GENESIS_LOG_ROOT = '0'.repeat(64);

/** The last root a new log entry must chain from, shared by every store implementation. */
export function assertChainsFrom(
  last: LogHeader | undefined,
  entry: Pick<LogHeader, 'epoch' | 'prevLogRoot'>,
): void {
  const expected = last?.logRoot ?? GENESIS_LOG_ROOT;
  const expectedEpoch = last ? last.epoch + 1 : entry.epoch;
  if (entry.prevLogRoot !== expected || entry.epoch !== expectedEpoch) {
    throw new HexEdgeError(
      'INTERNAL',
      `log entry for epoch ${entry.epoch} does not chain from ${expected} (epoch ${expectedEpoch})`,
    );
  }
}

/** OracleStore in memory: for unit tests and `hexedge dev` without a data directory. */
export class MemoryOracleStore implements OracleStore {
  readonly #nonces = new Map<string, number>();
  #claimsSincePrune = 0;
  #replayFloorMs = 0;
  readonly #reports: StoredReport[] = [];
  /** Reports pruned from the front of #reports: seq n sits at index n − 1 − #prunedReports. */
  #prunedReports = 0;
  readonly #cursors = new Map<string, number>();
  readonly #rounds = new Map<string, PendingRound>();
  readonly #lastBeacon = new Map<string, number>();
  readonly #entropy = new Map<string, Entropy>();
  readonly #verdicts = new Map<string, Verdict>();
  readonly #evidence = new Map<string, NodeEvidence>();
  readonly #work = new MemoryWorkData();
  readonly #stake: StakeEvent[] = [];
  /** The same events by node, and the slashes' evidence ids: a node's stake read every score tick is not a scan of all. */
  readonly #stakeByNode = new Map<string, StakeEvent[]>();
  readonly #slashEvidence = new Set<string | undefined>();
  readonly #trust = new Map<string, OracleTrustRecord>();
  readonly #coverage: CoverageObservation[] = [];
  readonly #log = new MemoryProvenanceLog(assertChainsFrom);
  readonly #rewardTrees = new Map<
    number,
    { record: RewardTreeRecord; leaves: Map<string, RewardLeafRecord>; levels: Uint8Array[][] }
  >();

  claimNonce(options: { nodeId: string; nonce: string; expiresAtMs: number; nowMs: number }): boolean {
    if (++this.#claimsSincePrune >= 4096) {
      this.#claimsSincePrune = 0;
      for (const [key, expiresAtMs] of this.#nonces)
        if (expiresAtMs < options.nowMs) this.#nonces.delete(key);
    }
    const key = `${options.nodeId}\n${options.nonce}`;
    const seenUntil = this.#nonces.get(key);
    if (seenUntil !== undefined && seenUntil >= options.nowMs) return false;
    this.#nonces.set(key, options.expiresAtMs);
    return true;
  }

  appendReports(reports: Array<Omit<StoredReport, 'seq'>>): StoredReport[] {
    // Ingest hands over freshly parsed objects it keeps no reference to, so they are stored as they are.
    const first = this.#prunedReports + this.#reports.length + 1;
    const stored = reports.map((r, i) => ({ ...r, seq: first + i }));
    this.#reports.push(...stored);
    return stored;
  }

  commitIngest(batch: {
    reports: Array<Omit<StoredReport, 'seq'>>;
    nonces: readonly NonceClaim[];
    replayFloorMs?: number;
    nowMs: number;
  }): StoredReport[] {
    for (const n of batch.nonces) this.#nonces.set(n.key ?? `${n.nodeId}\n${n.nonce}`, n.expiresAtMs);
    if (batch.replayFloorMs !== undefined)
      this.#replayFloorMs = Math.max(this.#replayFloorMs, batch.replayFloorMs);
    return this.appendReports(batch.reports);
  }

  loadReplayState(options: { nowMs: number; limit: number }): ReplayState {
    const nonces = [...this.#nonces]
      .filter(([, expiresAtMs]) => expiresAtMs >= options.nowMs)
      .map(([key, expiresAtMs]) => {
        const [nodeId, nonce] = key.split('\n') as [string, string];
        return { nodeId, nonce, expiresAtMs };
      })
      .sort((a, b) => b.expiresAtMs - a.expiresAtMs)
      .slice(0, options.limit);
    return { nonces, floorMs: this.#replayFloorMs };
  }

  listReports(options: { afterSeq: number; limit: number }): StoredReport[] {
    const start = Math.max(0, options.afterSeq - this.#prunedReports);
    return this.#reports.slice(start, start + options.limit);
  }

  listRoundReports(roundKey: string, options: { limit?: number } = {}): StoredReport[] {
    const all = this.#reports.filter((r) => r.roundKey === roundKey);
    return options.limit === undefined ? all : all.slice(-options.limit);
  }

  getCursor(stage: string): number {
    return this.#cursors.get(stage) ?? 0;
  }

  setCursor(stage: string, seq: number): void {
    this.#cursors.set(stage, seq);
  }

  openRound(round: PendingRound): void {
    if (!this.#rounds.has(round.roundKey)) this.#rounds.set(round.roundKey, { ...round });
  }

  listDueRounds(options: { nowMs: number; limit: number }): PendingRound[] {
    return [...this.#rounds.values()]
      .filter((r) => r.closesAtMs <= options.nowMs)
      .sort((a, b) => a.beaconSeq - b.beaconSeq)
      .slice(0, options.limit);
  }

  closeRound(roundKey: string): void {
    this.#rounds.delete(roundKey);
  }

  getLastBeaconAtMs(hotspotKey: string): number | undefined {
    return this.#lastBeacon.get(hotspotKey);
  }

  setLastBeaconAtMs(hotspotKey: string, atMs: number): void {
    this.#lastBeacon.set(hotspotKey, atMs);
  }

  saveEntropy(entropy: Entropy): void {
    this.#entropy.set(entropy.id, { ...entropy });
  }

  getEntropy(id: string): Entropy | undefined {
    return this.#entropy.get(id);
  }

  saveVerdicts(verdicts: Verdict[]): void {
    const stale = new Set<string>();
    const evidenceOf = (nodeId: string) => {
      let e = this.#evidence.get(nodeId);
      if (!e) this.#evidence.set(nodeId, (e = emptyEvidence(nodeId)));
      return e;
    };
    for (const v of verdicts) {
      const previous = this.#verdicts.get(v.id);
      const next = structuredClone(v);
      this.#verdicts.set(v.id, next);
      if (previous && JSON.stringify(previous) === JSON.stringify(next)) continue;
      replaceInEvidence({ previous, next, evidenceOf, stale });
    }
    // Rare (a re-judged verdict was the last kept of a list): refold by scanning, fine for a test store.
    for (const nodeId of stale)
      this.#evidence.set(nodeId, foldVerdicts(this.listVerdicts({ nodeId }), { nodeId }));
  }

  listRecentVerdicts(options: { nodeId: string; sinceMs: number; limit: number }): Verdict[] {
    return this.listVerdicts(options)
      .sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? -1 : 1))
      .slice(0, options.limit);
  }

  listNodeEvidence(): ReadonlyArray<Readonly<NodeEvidence>> {
    return [...this.#evidence.values()];
  }

  listVerdicts(options: { nodeId?: string; sinceMs?: number; untilMs?: number }): Verdict[] {
    const { nodeId, sinceMs = -Infinity, untilMs = Infinity } = options;
    return [...this.#verdicts.values()].filter(
      (v) => (nodeId === undefined || v.nodeId === nodeId) && v.atMs >= sinceMs && v.atMs < untilMs,
    );
  }

  saveWork(work: WorkRecord[]): void {
    this.#work.save(work);
  }

  workTotals(range: { sinceMs: number; untilMs: number }): WorkTotals {
    return this.#work.totals(range);
  }

  prune(options: PruneOptions): { reports: number; work: number } {
    const { beforeMs, maxSeq } = options.reports;
    const openFrom = Math.min(...[...this.#rounds.values()].map((r) => r.beaconSeq));
    let n = 0;
    for (const r of this.#reports) {
      if (n >= options.limit || r.seq > maxSeq || r.seq >= openFrom || r.receivedAtMs >= beforeMs) break;
      n++;
    }
    this.#reports.splice(0, n);
    this.#prunedReports += n;
    return { reports: n, work: this.#work.prune({ ...options.work, limit: options.limit }) };
  }

  commitJudged(batch: JudgedBatch): void {
    this.saveWork(batch.work);
    this.saveVerdicts(batch.verdicts);
    this.saveCoverage(batch.coverage);
    if (batch.closeRound !== undefined) this.closeRound(batch.closeRound);
    if (batch.cursor) this.setCursor(batch.cursor.stage, batch.cursor.seq);
  }

  listWork(options: { sinceMs: number; untilMs: number }): WorkRecord[] {
    return this.#work.list(options);
  }

  appendStakeEvent(event: Omit<StakeEvent, 'seq'>): boolean {
    if (event.type === 'slash' && this.#slashEvidence.has(event.evidenceId)) return false;
    if (event.type === 'slash') this.#slashEvidence.add(event.evidenceId);
    const stored = { ...structuredClone(event), seq: this.#stake.length + 1 };
    this.#stake.push(stored);
    const ofNode = this.#stakeByNode.get(stored.nodeId);
    if (ofNode) ofNode.push(stored);
    else this.#stakeByNode.set(stored.nodeId, [stored]);
    return true;
  }

  listStakeEvents(nodeId?: string): StakeEvent[] {
    return nodeId === undefined ? this.#stake.slice() : (this.#stakeByNode.get(nodeId)?.slice() ?? []);
  }

  saveTrust(record: OracleTrustRecord): void {
    this.#trust.set(record.nodeId, structuredClone(record));
  }

  listTrust(): OracleTrustRecord[] {
    return [...this.#trust.values()];
  }

  getTrust(nodeId: string): OracleTrustRecord | undefined {
    return this.#trust.get(nodeId);
  }

  saveCoverage(observations: CoverageObservation[]): void {
    this.#coverage.push(...observations.map((o) => ({ ...o })));
  }

  listCoverage(options: { sinceMs: number }): CoverageObservation[] {
    return this.#coverage.filter((o) => o.atMs >= options.sinceMs);
  }

  appendLogEntry(entry: LogEntry): void {
    this.#log.appendEntry(entry);
  }

  /** A copy of the epoch's work and verdicts as they are now: the memory store holds them anyway. */
  readEpoch(range: { sinceMs: number; untilMs: number }): EpochReader {
    const work = this.#work.list(range).sort((a, b) => (a.receiptHash < b.receiptHash ? -1 : 1));
    const verdicts = this.listVerdicts(range);
    return {
      rewardedWork: (slice) =>
        countRewardedWork(work.filter((w) => w.atMs >= slice.sinceMs && w.atMs < slice.untilMs)),
      receiptHashes: () => work.map((w) => w.receiptHash).values(),
      verdicts: () => verdicts.values(),
      close: () => {},
    };
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
    if (this.#rewardTrees.has(tree.epoch)) return false;
    const { epoch, merkleRoot, entries } = tree;
    this.#rewardTrees.set(epoch, {
      record: { epoch, merkleRoot, leafCount: entries.length },
      leaves: new Map(
        entries.map((entry, leafIndex) => [entry.nodeId, structuredClone({ leafIndex, entry })]),
      ),
      levels: tree.levels.filter((l) => l.length > 1).map((level) => level.map((h) => h.slice())),
    });
    return true;
  }

  getRewardTree(epoch: number): RewardTreeRecord | undefined {
    const kept = this.#rewardTrees.get(epoch);
    return kept && { ...kept.record };
  }

  getRewardLeaf(options: { epoch: number; nodeId: string }): RewardLeafRecord | undefined {
    const leaf = this.#rewardTrees.get(options.epoch)?.leaves.get(options.nodeId);
    return leaf && structuredClone(leaf);
  }

  getMerkleHashes(options: {
    epoch: number;
    positions: ReadonlyArray<{ level: number; index: number }>;
  }): Uint8Array[] {
    const levels = this.#rewardTrees.get(options.epoch)?.levels;
    return options.positions.map(({ level, index }) => {
      const hash = levels?.[level]?.[index];
      if (!hash)
        throw new HexEdgeError(
          'INTERNAL',
          `epoch ${options.epoch} keeps no Merkle hash at ${level}/${index}`,
        );
      return hash.slice();
    });
  }
}
