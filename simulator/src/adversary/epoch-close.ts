/**
 * An epoch's rewards, split by the oracle's own `computeRewardEntries`: inference by rewarded receipts
 * (the epoch's sampled requests served, each standing for `weight` real ones, so the fee cap is the
 * request fee × weight per sampled receipt), availability by corroborated probes × bonded stake (from
 * the ledger), nothing for a node convicted in the epoch. Coverage (PoC) is not simulated: its share
 * passes to the other categories, as the function does for a category nobody earned in.
 */
import { computeRewardEntries, type Verdict } from '@hexedge/coverage-oracle';
import type { SimNode } from '../nodes.ts';
import { isDishonest, type AdversaryOracle } from './adversary-oracle.ts';
import type { EpochRewards } from './adversary-metrics.ts';

export function closeEpoch(
  oracle: AdversaryOracle,
  o: { epoch: number; endMs: number; weight: number; nodesById: Map<string, SimNode> },
): EpochRewards {
  const { config } = oracle;
  const verdicts: Verdict[] = [];
  for (const nodeId of oracle.epochFrauds)
    verdicts.push({ id: `fraud:${nodeId}`, nodeId, kind: 'spot-check', status: 'fraud', atMs: o.endMs });
  const stakes = new Map<string, bigint>();
  for (const [nodeId, a] of oracle.epochAvailability) {
    // One shared verdict per node and status: the split reads kind, status and node id only.
    const up: Verdict = {
      id: `avail:${nodeId}:up`,
      nodeId,
      kind: 'availability',
      status: 'up',
      atMs: o.endMs,
    };
    const down: Verdict = { ...up, id: `avail:${nodeId}:down`, status: 'down' };
    for (let i = 0; i < a.up; i++) verdicts.push(up);
    for (let i = a.up; i < a.total; i++) verdicts.push(down);
    stakes.set(nodeId, oracle.ledger.stakeOf(nodeId, o.endMs).bondedBaseUnits);
  }
  const weight = BigInt(Math.max(1, Math.round(o.weight)));
  const { entries, unallocatedBaseUnits } = computeRewardEntries({
    poolBaseUnits: config.poolBaseUnits,
    shares: config.shares,
    work: oracle.epochWork,
    verdicts,
    modelCostUnits: config.modelCostUnits,
    requestFeeBaseUnits: config.requestFeeBaseUnits * weight,
    stakes,
  });
  const result: EpochRewards = {
    epoch: o.epoch,
    honestBaseUnits: 0n,
    sybilBaseUnits: 0n,
    dishonestBaseUnits: 0n,
    unallocatedBaseUnits,
    washEarnedBaseUnits: 0n,
    washFeesBaseUnits: 0n,
  };
  for (const e of entries) {
    const node = o.nodesById.get(e.nodeId);
    const amount = BigInt(e.amountBaseUnits);
    if (node?.role === undefined) result.honestBaseUnits += amount;
    else result.sybilBaseUnits += amount;
    if (node && isDishonest(node)) result.dishonestBaseUnits += amount;
    if (node?.role === 'wash') result.washEarnedBaseUnits += amount;
  }
  // Every real request a wash trader sends pays the fee.
  const washRequests = oracle.epochWork.filter((w) => w.wash).length;
  result.washFeesBaseUnits = BigInt(washRequests) * weight * config.requestFeeBaseUnits;
  oracle.epochWork = [];
  oracle.epochFrauds = new Set();
  oracle.epochAvailability = new Map();
  oracle.metrics.epochs.push(result);
  return result;
}
