import { z } from 'zod';
import { HexEdgeError } from '@hexedge/protocol';
import { formatIssue } from './format-issue.ts';

/**
 * The oracle's configuration, parsed once at start-up. Every key, its default and its unit is listed
 * in coverage-oracle/README.md ("Configuration").
 */
/** Integer base units, as a decimal string or a safe integer. */
const baseUnits = (defaultValue: string) =>
  z
    .union([z.string().regex(/^\d{1,30}$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
    .default(defaultValue)
    .transform((v) => BigInt(v));

export const oracleConfigSchema = z.object({
  /** Length of a reward epoch, ms (1 h). */
  epochMs: z.number().int().min(1000).default(3_600_000),
  /** Reward pool per epoch in integer base units (decimal string or safe integer). */
  poolBaseUnits: z
    .union([z.string().regex(/^\d{1,30}$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
    .default('1000000000')
    .transform((v) => BigInt(v)),
  /** Pool shares in basis points, summing to 10 000. */
  shares: z
    .object({
      inferenceBps: z.number().int().min(0),
      coverageBps: z.number().int().min(0),
      availabilityBps: z.number().int().min(0),
    })
    .default({ inferenceBps: 6000, coverageBps: 3000, availabilityBps: 1000 })
    .refine(
      (s) => s.inferenceBps + s.coverageBps + s.availabilityBps === 10_000,
      'shares must sum to 10000 basis points',
    ),
  /**
   * Fraction of receipts re-run by spot checks (0–1). The defaults of the four verification keys are
   * issue 16's goal configuration, the one the adversary simulation measured (SECURITY.md): verification
   * ≈ 2.5 % × (1 checker + 5 % audits + disputes) ≈ 2.6 % of inference compute, while a 1 % cheater at
   * the world's mean traffic is still caught with ≥ 99.9 % in an epoch. One checker is enough because
   * the referee settles every disagreement (refereed delegation: a checker must be honest or be caught
   * disagreeing); 5 % × 3 checkers with 10 % audits spent ≈ 15.5 %.
   */
  samplingRate: z.number().min(0).max(1).default(0.025),
  checkersPerSample: z.number().int().min(1).max(15).default(1),
  /** Share of sampled receipts the oracle's referee re-runs even when every checker agrees (0–1): collusion is audited. */
  refereeAuditRate: z.number().min(0).max(1).default(0.05),
  /** Fewer answers than this leave a spot check inconclusive. */
  minCheckerResponses: z.number().int().min(1).max(15).default(1),
  /** Verifiers (checkers, challengers) need at least this trust besides their standing (0–1). */
  minCheckerTrust: z.number().min(0).max(1).default(0.5),
  /** Bonded stake a node needs for verifier standing (base units). */
  minBondBaseUnits: baseUnits('100000000'),
  /** Seasoning: sampled-and-passed answers of its own a node needs for verifier standing… */
  seasoningPasses: z.number().int().min(0).max(1_000_000).default(20),
  /** …the first of them at least this long ago, ms (1 day). */
  seasoningMs: z.number().int().min(0).default(86_400_000),
  /** Stake asked back stays bonded, and slashable, this long, ms (7 days). */
  unbondDelayMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 86_400_000),
  /** What a request pays; a node's inference reward per epoch is at most this × its rewarded receipts (base units). */
  requestFeeBaseUnits: baseUnits('1000'),
  /** Cost of one request per model, in integer work units (default 1). */
  modelCostUnits: z.record(z.string(), z.number().int().positive()).default({}),
  /** Comparison tolerance per model when no manifest says otherwise (absolute). */
  defaultTolerance: z.number().nonnegative().default(1e-4),
  roundCloseDelayMs: z.number().int().min(4000).default(30_000),
  scoreIntervalMs: z.number().int().min(100).default(10_000),
  /** Grace after an epoch ends before it is closed, ms. */
  settleMs: z.number().int().min(0).default(60_000),
  minChallengers: z.number().int().min(1).max(50).default(3),
  verifiedWithinKm: z.number().positive().default(250),
  /**
   * Challengers that must each bound a claim within verifiedWithinKm for it to be verified. 2 (the
   * default): one colluding verifier next to a claim cannot vouch for a node far from it, which with 1
   * (the tightest alone) it could (the adversary simulation found this; SECURITY.md). 2 needs two
   * verifiers near each claim: a young network with one near each claim sets 1 and accepts that hole.
   */
  minTightChallengers: z.number().int().min(1).max(20).default(2),
  /** Share of the bond one confirmed fraud slashes, basis points. */
  slashBps: z.number().int().min(0).max(10_000).default(5000),
  /**
   * Retention of raw reports once judged, ms (2 h: an epoch and its close). At least 15 min: location
   * proofs combine the last 10 min of challengers' reports and PoC rounds close 30 s after their beacon.
   */
  reportRetentionMs: z
    .number()
    .int()
    .min(15 * 60_000)
    .default(2 * 3_600_000),
  /**
   * Retention of per-receipt work records, ms (2 h). Never shorter in effect than the epoch: work of an
   * epoch not closed yet, and of the last closed one (PoSP's reward per request), is always kept; the
   * closed epochs keep every receipt hash in the provenance log.
   */
  workRetentionMs: z
    .number()
    .int()
    .min(0)
    .default(2 * 3_600_000),
  /** How long an idle stage rests before looking again, ms. */
  idleMs: z.number().int().min(1).default(1000),
  batchSize: z.number().int().min(1).max(10_000).default(256),
});

export type OracleConfigInput = z.input<typeof oracleConfigSchema>;
export type OracleConfig = z.output<typeof oracleConfigSchema>;

export function parseOracleConfig(raw: unknown): OracleConfig {
  const parsed = oracleConfigSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new HexEdgeError('INVALID_REQUEST', `oracle config ${formatIssue(parsed.error.issues[0])}`);
  return parsed.data;
}
