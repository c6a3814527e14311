/** Shapes of the gateway's rollout endpoints (gateway/src/routes/rollouts.ts, rollouts/rollout-manager.ts), as the view reads them. */
export interface VersionStats {
  answers: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  latencySamples: number;
  compared: number;
  diverged: number;
  divergenceRate: number;
  maxDifference: number | null;
  totalAnswers: number;
  totalErrors: number;
  totalCompared: number;
  totalDiverged: number;
}

export type Verdict =
  { action: 'hold'; waiting: string } | { action: 'rollback' | 'promote'; reason: string };

export interface Rollout {
  id: string;
  model: string;
  baseline: string;
  candidate: string;
  state: 'running' | 'promoted' | 'rolled-back';
  canary: {
    percent: number;
    by: 'key' | 'device' | 'fleet';
    include: string[];
    nodeShare: number;
    maxNodes?: number;
  };
  shadow: { percent: number; maxInFlight: number; deadlineMs: number };
  thresholds: {
    maxErrorRate: number;
    maxDivergenceRate: number;
    maxP95Ms?: number;
    maxP95Ratio: number;
    p95SlackMs: number;
    minSamples: number;
    minComparisons: number;
    windowMs: number;
    tolerance?: number;
  };
  promotion: { auto: boolean; afterMs: number; minSamples: number; minComparisons: number };
  createdAtMs: number;
  candidateFirstAnsweredAtMs?: number;
  endedAtMs?: number;
  decidedBy?: 'auto' | 'admin';
  reason?: string;
  timeToDecisionMs?: number;
  history: { atMs: number; event: string; detail: string }[];
  live?: {
    candidate: VersionStats;
    baseline: VersionStats;
    mirrorsInFlight: number;
    mirrorsShed: number;
    fallbacks: number;
    unavailable: number;
    errorCodes: Record<string, Record<string, number>>;
    tolerance: number;
    verdict: Verdict;
  };
}

export interface VersionPolicy {
  model: string;
  mode: 'all' | 'latest' | 'specific';
  version?: string;
  withdrawn: string[];
  updatedAtMs: number;
}

export interface RolloutsResponse {
  rollouts: Rollout[];
  policies: VersionPolicy[];
}
