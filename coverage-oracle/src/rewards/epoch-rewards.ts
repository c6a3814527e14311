import { HexEdgeError } from '@hexedge/protocol';
import type { Verdict, WorkRecord } from '../store/records.ts';
import { isRewardedStatus } from '../store/work-totals.ts';
import { countRewardedWork, InferenceInputs, VerdictInputs } from './reward-inputs.ts';
import { splitProportionally } from './split.ts';

/** Shares of the pool in basis points; they must sum to 10 000. */
export interface RewardShares {
  inferenceBps: number;
  coverageBps: number;
  availabilityBps: number;
}
export const DEFAULT_REWARD_SHARES: RewardShares = {
  inferenceBps: 6000,
  coverageBps: 3000,
  availabilityBps: 1000,
};

export interface RewardEntry {
  nodeId: string;
  /** All amounts and weights are integers as decimal strings (canonical JSON has no bigint). */
  amountBaseUnits: string;
  inferenceBaseUnits: string;
  coverageBaseUnits: string;
  availabilityBaseUnits: string;
  inferenceWeight: string;
  coverageWeight: string;
  availabilityWeight: string;
}

export function assertValidShares(shares: RewardShares): void {
  const values = [shares.inferenceBps, shares.coverageBps, shares.availabilityBps];
  if (values.some((v) => !Number.isInteger(v) || v < 0) || values.reduce((a, b) => a + b, 0) !== 10_000) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `reward shares must be non-negative integer basis points summing to 10000, got ${values.join(' + ')}`,
    );
  }
}

/** Work that earns: not sampled, or sampled and passed (the checkers agreed, or the referee did). */
export const isRewardedWork = (w: WorkRecord) => isRewardedStatus(w.status);

/**
 * Splits an epoch's pool: first among the three categories by their shares (a category nobody earned
 * in passes its share to the others, in proportion), then within each category by weight:
 * - inference: rewarded receipts (not sampled, or sampled and passed) × the model's cost units
 *   (unknown models cost 1); with `requestFeeBaseUnits`, a node's inference reward is at most the fees
 *   its rewarded requests paid, so paying your own node never earns more than it costs (the rest of
 *   the category is left unallocated);
 * - coverage: Σ PoC reward unit × the beaconer's hex-density scale over valid beacons and witnesses;
 * - availability: the share of corroborated latency probes answered, in basis points, times the
 *   node's bonded stake when `stakes` is given (verified uptime, stake-weighted: splitting one stake
 *   over many identities earns nothing more).
 * A node with confirmed fraud in the epoch (as a node or as a checker) earns nothing in it. Both splits
 * use the largest-remainder rule (splitProportionally), so the entries sum to the pool exactly unless
 * nobody earned anything or fees capped inference.
 */
export function computeRewardEntries(options: {
  poolBaseUnits: bigint;
  shares: RewardShares;
  work: readonly WorkRecord[];
  verdicts: readonly Verdict[];
  modelCostUnits?: Readonly<Record<string, number>>;
  requestFeeBaseUnits?: bigint;
  stakes?: ReadonlyMap<string, bigint>;
}): { entries: RewardEntry[]; unallocatedBaseUnits: bigint } {
  const { work, verdicts, modelCostUnits, ...rest } = options;
  const verdictInputs = new VerdictInputs();
  for (const v of verdicts) verdictInputs.add(v);
  return computeRewardEntriesFromInputs({
    ...rest,
    inference: new InferenceInputs(modelCostUnits).add(countRewardedWork(work)),
    verdicts: verdictInputs,
  });
}

/**
 * `computeRewardEntries` from inputs already folded (reward-inputs.ts): what an epoch close streams the
 * store's work and verdicts into, so it never holds the epoch's records. The same entries for the same
 * records, in whatever order or slicing they were folded.
 */
export function computeRewardEntriesFromInputs(options: {
  poolBaseUnits: bigint;
  shares: RewardShares;
  inference: InferenceInputs;
  verdicts: VerdictInputs;
  requestFeeBaseUnits?: bigint;
  stakes?: ReadonlyMap<string, bigint>;
}): { entries: RewardEntry[]; unallocatedBaseUnits: bigint } {
  const { poolBaseUnits, shares, requestFeeBaseUnits, stakes } = options;
  assertValidShares(shares);
  const { cheaters } = options.verdicts;
  // A node with confirmed fraud in the epoch earns nothing in it, in any category.
  const honest = (weights: ReadonlyMap<string, bigint>) =>
    new Map([...weights].filter(([id]) => !cheaters.has(id)));
  const inference = honest(options.inference.weights);
  const receipts = options.inference.receipts;
  const coverage = honest(options.verdicts.coverage);
  const availability = new Map<string, bigint>();
  for (const [id, p] of options.verdicts.probes) {
    if (cheaters.has(id)) continue;
    const uptimeBps = BigInt(Math.round((p.up / p.total) * 10_000));
    availability.set(id, stakes ? uptimeBps * (stakes.get(id) ?? 0n) : uptimeBps);
  }

  const categories = [
    { id: 'inference', weights: inference, bps: shares.inferenceBps },
    { id: 'coverage', weights: coverage, bps: shares.coverageBps },
    { id: 'availability', weights: availability, bps: shares.availabilityBps },
  ];
  const active = categories.filter((c) => [...c.weights.values()].some((w) => w > 0n));
  const byCategory = splitProportionally({
    totalBaseUnits: poolBaseUnits,
    weights: active.map((c) => ({ id: c.id, weight: BigInt(c.bps) })),
  });
  const amounts = new Map(
    categories.map((c) => [
      c.id,
      splitProportionally({
        totalBaseUnits: byCategory.get(c.id) ?? 0n,
        weights: [...c.weights].map(([id, weight]) => ({ id, weight })),
      }),
    ]),
  );

  if (requestFeeBaseUnits !== undefined) {
    const earned = amounts.get('inference')!;
    for (const [id, amount] of earned) {
      const cap = requestFeeBaseUnits * (receipts.get(id) ?? 0n);
      if (amount > cap) earned.set(id, cap);
    }
  }

  const nodeIds = [...new Set([...inference.keys(), ...coverage.keys(), ...availability.keys()])].sort();
  const entries: RewardEntry[] = [];
  let allocated = 0n;
  for (const nodeId of nodeIds) {
    const inf = amounts.get('inference')!.get(nodeId) ?? 0n;
    const cov = amounts.get('coverage')!.get(nodeId) ?? 0n;
    const ava = amounts.get('availability')!.get(nodeId) ?? 0n;
    allocated += inf + cov + ava;
    entries.push({
      nodeId,
      amountBaseUnits: (inf + cov + ava).toString(),
      inferenceBaseUnits: inf.toString(),
      coverageBaseUnits: cov.toString(),
      availabilityBaseUnits: ava.toString(),
      inferenceWeight: (inference.get(nodeId) ?? 0n).toString(),
      coverageWeight: (coverage.get(nodeId) ?? 0n).toString(),
      availabilityWeight: (availability.get(nodeId) ?? 0n).toString(),
    });
  }
  return { entries, unallocatedBaseUnits: poolBaseUnits - allocated };
}
