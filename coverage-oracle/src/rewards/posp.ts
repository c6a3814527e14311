import type { PospReport } from '@hexedge/protocol';
import type { OracleConfig } from '../config.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { EpochClock } from './epochs.ts';

const BPS = 10_000n;
/** The sampling rate as an exact fraction in millionths. */
const RATE_SCALE = 1_000_000n;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The proof-of-sampling condition for the current epoch, from the configuration and the last closed
 * epoch (Zhang et al., "Proof of Sampling", 2024: a rational node does not cheat when the expected
 * loss of being sampled, p × S, is at least the gain g). The gain per cheated request is at most what
 * the request earns: the last epoch's inference reward per rewarded request, which the fee cap holds
 * at or below the request fee; the loss is at least the slash of the smallest bond with standing.
 * Also the current epoch's verification compute (checkers' and referee's) against inference compute.
 */
export function computePosp(options: {
  config: OracleConfig;
  store: OracleStore;
  clock: EpochClock;
  nowMs: number;
}): PospReport {
  const { config, store, clock, nowMs } = options;
  const epoch = clock.epochOf(nowMs);
  const minSlash = (config.minBondBaseUnits * BigInt(config.slashBps)) / BPS;
  const breakEven = (BigInt(Math.round(config.samplingRate * Number(RATE_SCALE))) * minSlash) / RATE_SCALE;
  const pool = config.poolBaseUnits;
  const inferencePool = (pool * BigInt(config.shares.inferenceBps)) / BPS;

  let rewardPerRequest: bigint | null = null;
  const last = store.listRecentLogHeaders(1).at(-1);
  if (last) {
    const manifest = (
      JSON.parse(last.manifestJson) as { manifest: { entries: Array<{ inferenceBaseUnits: string }> } }
    ).manifest;
    const paid = manifest.entries.reduce((s, e) => s + BigInt(e.inferenceBaseUnits), 0n);
    const rewarded = BigInt(
      store.workTotals({ sinceMs: last.startMs, untilMs: last.endMs }).rewardedRequests,
    );
    rewardPerRequest = rewarded > 0n ? paid / rewarded : 0n;
  }
  const gain = rewardPerRequest ?? config.requestFeeBaseUnits;
  const holds = breakEven >= gain;

  const { startMs, endMs } = clock.boundsOf(epoch);
  // Running totals, not the epoch's work records: this answers a public GET, and an epoch at scale holds millions.
  const { inferenceMs, checkerMs, refereeMs } = store.workTotals({ sinceMs: startMs, untilMs: endMs });
  const condition =
    `sampling rate × slash ≥ gain per request: ${config.samplingRate} × ${minSlash} = ${breakEven} base units ` +
    `${holds ? '≥' : '<'} ${gain} (${rewardPerRequest === null ? 'the request fee, before any epoch closed' : `reward per request in epoch ${last!.epoch}`}): ` +
    (holds ? 'cheating does not pay' : 'cheating may pay: raise the sampling rate or the minimum bond');
  return {
    epoch,
    samplingRate: config.samplingRate,
    slashBps: config.slashBps,
    minBondBaseUnits: config.minBondBaseUnits.toString(),
    minSlashBaseUnits: minSlash.toString(),
    breakEvenGainBaseUnits: breakEven.toString(),
    requestFeeBaseUnits: config.requestFeeBaseUnits.toString(),
    inferencePoolBaseUnits: inferencePool.toString(),
    rewardPerRequestBaseUnits: rewardPerRequest === null ? null : rewardPerRequest.toString(),
    holds,
    condition,
    verification: {
      inferenceMs: round3(inferenceMs),
      checkerMs: round3(checkerMs),
      refereeMs: round3(refereeMs),
      share: inferenceMs > 0 ? round3((checkerMs + refereeMs) / inferenceMs) : null,
    },
  };
}
