/**
 * The proof-of-sampling condition the oracle publishes (`GET {oracle}/v1/oracle/posp`) and the
 * gateway's operator view shows: cheating on a request does not pay when the chance it is sampled
 * times what a caught cheat loses is at least what the cheat gains, p × S ≥ g. S is the slash of the
 * smallest bond that earns standing; g is bounded by what one request earns in the last closed epoch
 * (its inference reward, itself capped by the request fee), so the margin is recomputed every epoch.
 */
export const POSP_PATH = '/v1/oracle/posp';

export interface PospReport {
  /** The epoch the condition is computed for (the current one) and the last closed one it reads. */
  epoch: number;
  samplingRate: number;
  slashBps: number;
  minBondBaseUnits: string;
  /** What one caught cheat costs at least: slashBps of the minimum bond. */
  minSlashBaseUnits: string;
  /** p × S: a cheat gaining less than this per request loses in expectation. */
  breakEvenGainBaseUnits: string;
  requestFeeBaseUnits: string;
  inferencePoolBaseUnits: string;
  /** The last closed epoch's reward per rewarded request, or null before any. */
  rewardPerRequestBaseUnits: string | null;
  /** Whether p × S ≥ the reward per request (true while no epoch closed: the fee cap bounds it). */
  holds: boolean;
  /** The condition in words, with the numbers. */
  condition: string;
  /** Verification compute against inference compute in the current epoch (service time, ms). */
  verification: { inferenceMs: number; checkerMs: number; refereeMs: number; share: number | null };
}
