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
  signature: string;
}

/** `node-fault`: a gateway's signed report of a node failing requests it had validated (evidence; not scored here). */
export type VerdictKind = 'poc-beacon' | 'poc-witness' | 'location' | 'spot-check' | 'availability' | 'node-fault';
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

/** A verified receipt: one unit of inference work, weighted by its model's cost at reward time. */
export interface WorkRecord {
  receiptHash: string;
  nodeId: string;
  modelName: string;
  modelVersion: string;
  atMs: number;
  sampled: boolean;
}

export interface StakeEvent {
  seq: number;
  nodeId: string;
  type: 'bond' | 'unbond' | 'slash';
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
