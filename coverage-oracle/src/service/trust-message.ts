import { signBody, type NodeKeyPair, type Signed } from '@hexedge/protocol';

/**
 * What the oracle pushes to each gateway (`POST {gateway}/v1/oracle/trust`), signed with kind
 * 'oracle-trust' by the oracle's key. `nodeId` is the oracle's id (its public key), as in every signed
 * HexEdge message; `seq` only grows (it starts from the wall clock, so it survives a restart without
 * being stored) and lets the gateway refuse a replayed or reordered push.
 */
export interface TrustScoreEntry {
  nodeId: string;
  score: number;
  reasons: string[];
  locationVerified: boolean;
}

export interface TrustMessageBody {
  type: 'oracle-trust';
  nodeId: string;
  issuedAtMs: number;
  seq: number;
  scores: TrustScoreEntry[];
}

/** Placement keeps at most 16 reasons of ≤ 200 chars (placement's MAX_TRUST_REASONS); longer ones are cut here, not refused there. */
export const MAX_PUSHED_REASONS = 16;
export const MAX_REASON_CHARS = 200;
/** Scores per message: a push of a whole network is split so each body stays well under 1 MiB. */
export const MAX_SCORES_PER_MESSAGE = 500;
export const TRUST_PATH = '/v1/oracle/trust';

export function clipReasons(reasons: readonly string[]): string[] {
  return reasons.slice(0, MAX_PUSHED_REASONS).map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS - 1)}…` : r));
}

export function signTrustMessage(options: { oracle: NodeKeyPair; seq: number; issuedAtMs: number; scores: TrustScoreEntry[] }): Promise<Signed<TrustMessageBody>> {
  const body: TrustMessageBody = { type: 'oracle-trust', nodeId: options.oracle.nodeId, issuedAtMs: options.issuedAtMs, seq: options.seq, scores: options.scores };
  return signBody('oracle-trust', body, options.oracle.privateKey);
}
