import { z } from 'zod';
import { SIGNATURE_PATTERN, type NodeKeyPair } from '../identity.ts';
import { nodeIdSchema } from '../schemas/node.ts';
import { signBody, type Signed } from '../signing.ts';

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
  /**
   * The node has no verified work yet: its trust is unknown, and placement keeps it on probation
   * whatever the score says (the score then carries location and availability evidence only).
   */
  probation?: boolean;
  /**
   * The claim the oracle's latest location proof judged (the place and when it was claimed). The gateway
   * applies `locationVerified` only while the node still claims exactly this, so a verdict on an old
   * place never verifies a new one.
   */
  verifiedClaim?: VerifiedClaim | null;
}

/** A location claim as the gateway lists it: the claimed place and when the node claimed it. */
export interface VerifiedClaim {
  lat: number;
  lng: number;
  claimedAtMs?: number;
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
/** Where the oracle posts trust on each gateway. */
export const TRUST_PATH = '/v1/oracle/trust';
/** A push older than this is refused: the oracle pushes every few seconds, and a delayed copy must not undo a newer score. */
export const MAX_TRUST_PUSH_AGE_MS = 60_000;
/** The oracle's clock may run this far ahead of the gateway's. */
export const MAX_TRUST_PUSH_SKEW_MS = 30_000;
/** MAX_SCORES_PER_MESSAGE entries of a few hundred bytes each fit well under this. */
export const MAX_TRUST_PUSH_BYTES = 1024 * 1024;

const trustScoreEntrySchema = z.object({
  nodeId: z.string().max(64),
  score: z.number().min(0).max(1),
  reasons: z.array(z.string().max(MAX_REASON_CHARS)).max(MAX_PUSHED_REASONS),
  locationVerified: z.boolean(),
  probation: z.boolean().optional(),
  verifiedClaim: z
    .object({
      lat: z.number().finite(),
      lng: z.number().finite(),
      claimedAtMs: z.number().int().nonnegative().optional(),
    })
    .nullable()
    .optional(),
});

/** `POST {gateway}/v1/oracle/trust`, as the oracle's TrustPublisher sends it and the gateway checks it. */
export const trustPushSchema = z.object({
  body: z.object({
    type: z.literal('oracle-trust'),
    nodeId: nodeIdSchema,
    issuedAtMs: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
    scores: z.array(trustScoreEntrySchema).max(MAX_SCORES_PER_MESSAGE),
  }),
  signature: z.string().regex(SIGNATURE_PATTERN),
});

export function clipReasons(reasons: readonly string[]): string[] {
  return reasons
    .slice(0, MAX_PUSHED_REASONS)
    .map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS - 1)}…` : r));
}

export function signTrustMessage(options: {
  oracle: NodeKeyPair;
  seq: number;
  issuedAtMs: number;
  scores: TrustScoreEntry[];
}): Promise<Signed<TrustMessageBody>> {
  const body: TrustMessageBody = {
    type: 'oracle-trust',
    nodeId: options.oracle.nodeId,
    issuedAtMs: options.issuedAtMs,
    seq: options.seq,
    scores: options.scores,
  };
  return signBody('oracle-trust', body, options.oracle.privateKey);
}
