/** Shapes of the gateway's dashboard endpoints (gateway/src/routes/dashboard*.ts), as the views read them. */
export interface LatLng {
  lat: number;
  lng: number;
}

export interface HexCell extends LatLng {
  cell: string;
  nodes: number;
  healthy: number;
  coverage: number;
  meanTrust: number | null;
  probation: number;
  demand: number;
  p50LatencyMs: number | null;
  value: number | null;
}

export interface HexesResponse {
  res: number;
  metric: string;
  windowMs: number;
  coverageSource: string;
  cells: HexCell[];
}

export interface Trust {
  score: number;
  probation: boolean;
  reasons: string[];
}

export interface ServedStats {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  lastServedAtMs: number | null;
}

export interface HexNode extends LatLng {
  id: string;
  status: string;
  trust: Trust;
  models: { name: string; version: string; ready: boolean }[];
  queueDepth: number;
  lastHeartbeatAtMs: number;
  served: ServedStats;
}

export interface HexDetail {
  cell: string;
  res: number;
  demand: number;
  p50LatencyMs: number | null;
  windowMs: number;
  signal: { rssiDbm: number; snrDb: number; witnesses: number } | null;
  nodes: HexNode[];
  /** More nodes in the hex than listed (the gateway lists at most 200, nearest its centre). */
  truncated: boolean;
}

export interface NodeModel {
  name: string;
  version: string;
  contentId: string;
  ready: boolean;
  executionProvider?: string;
  load?: { queueDepth: number; inFlight: number; ewmaServiceMs: number };
  sizeBytes?: number;
}

export interface OracleReport {
  verdicts: { kind: string; status: string; reason?: string; atMs: number }[];
  rewards: { epoch: number; amountBaseUnits: string }[];
  manifestEntry?: {
    epoch: number;
    entry: Record<string, string>;
    merkleRoot: string;
    proof: { leafIndex: number; siblings: { hash: string; position: string }[] };
  };
  trustComponents?: Record<string, number>;
}

export interface OperatorNode extends LatLng {
  id: string;
  status: string;
  cell: string;
  regions: string[];
  locationVerified: boolean;
  hardware: { cpuCores: number; memoryMb: number; executionProviders: string[] };
  models: NodeModel[];
  draining: boolean;
  registeredAtMs: number;
  lastHeartbeatAtMs: number;
  heartbeatIntervalMs: number;
  served: ServedStats;
  trust: Trust;
  oracle: OracleReport | null;
  /** The network's proof-of-sampling condition, from the oracle (null without one). */
  posp?: Posp | null;
}

/** Why cheating does not pay, in the oracle's numbers (protocol's PospReport). */
export interface Posp {
  epoch: number;
  samplingRate: number;
  minSlashBaseUnits: string;
  breakEvenGainBaseUnits: string;
  requestFeeBaseUnits: string;
  rewardPerRequestBaseUnits: string | null;
  holds: boolean;
  condition: string;
  verification: { inferenceMs: number; checkerMs: number; refereeMs: number; share: number | null };
}

export interface Usage {
  key: { id: string; name: string; dailyQuota: number; usedToday: number };
  requests: number;
  errors: Record<string, number>;
  models: { model: string; requests: number; errors: number; p50Ms: number | null }[];
}

export interface UsageDetail {
  windowMs: number;
  bucketMs: number;
  regions: { region: string; requests: number; errors: number; p50Ms: number | null; p99Ms: number | null }[];
  timeline: { atMs: number; requests: number; errors: number }[];
}

export interface RequestEventData {
  model: string;
  ok: boolean;
  code?: string;
  totalMs: number;
  region?: string;
  nodeId?: string;
  cell?: string;
}
