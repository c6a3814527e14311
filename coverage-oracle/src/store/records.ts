import type { BatchProof } from '@hexedge/protocol';
import type { RewardEntry } from '../rewards/epoch-rewards.ts';

/** What the oracle keeps. Every record is plain JSON so any store can hold it as text. */

export type ReportType = 'beacon' | 'witness' | 'receipt' | 'uplink' | 'location' | 'node-fault';

/** A report that passed ingest (signature, freshness, replay), numbered in arrival order. */
export interface StoredReport {
  seq: number;
  type: ReportType;
  /** The reporter: the hotspot, the gateway forwarding a receipt, the bridge, the challenger. */
  nodeId: string;
  /** The oracle's clock when ingest accepted it: PoC timing is measured on this, never on the sender's. */
  receivedAtMs: number;
  /** Groups a beacon with its witnesses (the beacon's data). */
  roundKey?: string;
  /** The signed body as it arrived, and its signature: kept as evidence. */
  body: Record<string, unknown>;
  /** The report's own signature, or for a batch-signed one (v2) its batch root's. */
  signature: string;
  /** A batch-signed report's leaf index, inclusion proof and signed root: it verifies alone with them. */
  batch?: BatchProof;
}

/** A spent (reporter, nonce), kept until the report could no longer be accepted anyway. */
export interface NonceClaim {
  nodeId: string;
  nonce: string;
  expiresAtMs: number;
  /** `${nodeId}\n${nonce}`, when ingest built it already (one string per report for its replay check and the memory store). */
  key?: string;
}
/**
 * Ingest's replay memory as persisted: the spent nonces, and the floor (watermark) below which every
 * report is refused because its nonce may have been forgotten to keep memory bounded.
 */
export interface ReplayState {
  nonces: NonceClaim[];
  floorMs: number;
}

/** `challenger`: a challenger's report judged against the others' (an outlier loses standing). */
/** `node-fault`: a gateway's signed report of a node failing requests it had validated (evidence; not scored here). */
export type VerdictKind =
  'poc-beacon' | 'poc-witness' | 'location' | 'spot-check' | 'availability' | 'challenger' | 'node-fault';
export type VerdictStatus =
  | 'valid'
  | 'invalid'
  | 'verified'
  | 'unverified'
  | 'impossible'
  | 'inconclusive'
  | 'pass'
  | 'fraud'
  | 'up'
  | 'down'
  | 'fault';

/** A judgement, stored and shown: verdicts are data, not exceptions. */
export interface Verdict {
  /** Unique and stable: the same evidence judged twice gives the same id (saving is idempotent). */
  id: string;
  nodeId: string;
  kind: VerdictKind;
  status: VerdictStatus;
  reason?: string;
  atMs: number;
  /** PoC: HIP-15 unit and the beaconer's HIP-17 scale, for rewards. */
  rewardUnit?: number;
  hexScale?: number;
  details?: Record<string, unknown>;
}

/**
 * What became of a receipt: not sampled, or sampled and passed (by the checkers' agreement or the
 * referee); sampled and inconclusive or fraud; or not bound to the model catalogue. Only `unchecked`
 * and `pass` earn inference rewards (a record without a status predates this and counts as unchecked).
 */
export type WorkStatus = 'unchecked' | 'pass' | 'fraud' | 'inconclusive' | 'unbound';

/** A forwarded receipt: one unit of inference work, weighted by its model's cost at reward time. */
export interface WorkRecord {
  receiptHash: string;
  nodeId: string;
  modelName: string;
  modelVersion: string;
  atMs: number;
  sampled: boolean;
  status?: WorkStatus;
  /** The node's own service time (its receipt): inference compute. */
  serviceTimeMs?: number;
  /** Verification compute spent on it: checkers' service times and the referee's run, ms. */
  checkerMs?: number;
  refereeMs?: number;
}

export interface StakeEvent {
  seq: number;
  /** The node bonded, unbonded or slashed; for a deposit, the stake account credited. */
  nodeId: string;
  type: 'deposit' | 'bond' | 'unbond' | 'slash';
  /** Bond and unbond: the operator's stake account (absent: the node is its own operator). */
  accountId?: string;
  /** Bond: taken from the account's deposits (a signed bond), not brought in from outside. */
  funded?: boolean;
  /** Unbond: when the stake leaves the bond and returns to the account. */
  releasesAtMs?: number;
  /** Integer base units, as a decimal string (JSON has no bigint). */
  amountBaseUnits: string;
  /** Slashes only: the evidence id (a fraud record's receipt hash); at most one slash per id. */
  evidenceId?: string;
  evidence?: Record<string, unknown>;
  atMs: number;
}

export interface OracleTrustRecord {
  nodeId: string;
  score: number;
  reasons: string[];
  components: Record<string, number>;
  updatedAtMs: number;
}

export interface CoverageObservation {
  /** H3 cell covered (res 8 for radio; the node's claimed cell for latency). */
  cell: string;
  nodeId: string;
  source: 'poc' | 'uplink' | 'latency';
  signalDbm?: number;
  snrDb?: number;
  latencyMs?: number;
  atMs: number;
}

export interface PendingRound {
  roundKey: string;
  beaconSeq: number;
  closesAtMs: number;
}

export interface Entropy {
  id: string;
  startMs: number;
}

/** One epoch in the append-only provenance log. */
export interface LogEntry {
  epoch: number;
  startMs: number;
  endMs: number;
  prevLogRoot: string;
  logRoot: string;
  manifestHash: string;
  receiptsRoot: string;
  verdictsRoot: string;
  /** The signed reward manifest, exactly as published (canonical JSON). */
  manifestJson: string;
  receiptHashes: string[];
  verdictHashes: string[];
}

/** An epoch's two hash lists in the log, each kept as rows in list order and read page by page. */
export type LogHashKind = 'receipts' | 'verdicts';

/** A log entry without its receipt and verdict hash lists: what a request or a stage tick reads. */
export type LogHeader = Omit<LogEntry, 'receiptHashes' | 'verdictHashes'>;

/** The header of a full entry (the same fields, the hash lists left out). */
export function logHeaderOf(entry: LogEntry): LogHeader {
  const { receiptHashes: _receipts, verdictHashes: _verdicts, ...header } = entry;
  return header;
}

/**
 * A closed epoch's reward Merkle tree as kept beside its log entry: a proof request reads the node's
 * leaf and one hash per level (indexed), never the manifest, and never builds a tree.
 */
export interface RewardTreeRecord {
  epoch: number;
  merkleRoot: string;
  /** Leaves (rewarded nodes): with it, the length of every level is known without reading them. */
  leafCount: number;
}

/** What `saveRewardTree` keeps: the manifest's entries in leaf order and every level below the root. */
export interface RewardTreeInput {
  epoch: number;
  merkleRoot: string;
  entries: readonly RewardEntry[];
  /** `buildMerkleLevels` of the entries (leaf hashes first); the root's level (one hash) is not kept. */
  levels: readonly (readonly Uint8Array[])[];
}

/** A node's entry in a kept tree and its leaf's position. */
export interface RewardLeafRecord {
  leafIndex: number;
  entry: RewardEntry;
}
