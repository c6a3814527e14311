import type { Verdict, WorkRecord } from '../store/records.ts';
import { isRewardedStatus } from '../store/work-totals.ts';

/** Rewarded work (unchecked or passed) of one node on one model in a range: what inference rewards need of it. */
export interface RewardedWorkCount {
  nodeId: string;
  modelName: string;
  rewardedRequests: number;
}

/** Units and scales are stored with 4 decimals, so ×10⁴ each makes them exact integers. */
const UNIT_SCALE = 10_000;

/**
 * Per-node inference inputs, added up from counts of rewarded work per (node, model) in any slicing of
 * the epoch: O(nodes × models) whatever the number of receipts.
 */
export class InferenceInputs {
  /** Σ rewarded requests × the model's cost units, per node. */
  readonly weights = new Map<string, bigint>();
  /** Rewarded receipts per node (the fee cap). */
  readonly receipts = new Map<string, bigint>();
  readonly #modelCostUnits: Readonly<Record<string, number>>;

  constructor(modelCostUnits: Readonly<Record<string, number>> = {}) {
    this.#modelCostUnits = modelCostUnits;
  }

  add(counts: Iterable<RewardedWorkCount>): this {
    for (const { nodeId, modelName, rewardedRequests } of counts) {
      if (rewardedRequests <= 0) continue;
      // Unknown models, and a cost that is not a positive integer, cost 1.
      const cost = this.#modelCostUnits[modelName] ?? 1;
      const n = BigInt(rewardedRequests);
      const unit = BigInt(Number.isInteger(cost) && cost > 0 ? cost : 1);
      this.weights.set(nodeId, (this.weights.get(nodeId) ?? 0n) + n * unit);
      this.receipts.set(nodeId, (this.receipts.get(nodeId) ?? 0n) + n);
    }
    return this;
  }
}

/** Work records counted as `RewardedWorkCount`s (the materialised form, for small inputs and tests). */
export function countRewardedWork(work: Iterable<WorkRecord>): RewardedWorkCount[] {
  const counts = new Map<string, RewardedWorkCount>();
  for (const w of work) {
    if (!isRewardedStatus(w.status)) continue;
    const key = `${w.nodeId}\n${w.modelName}`;
    const c = counts.get(key);
    if (c) c.rewardedRequests++;
    else counts.set(key, { nodeId: w.nodeId, modelName: w.modelName, rewardedRequests: 1 });
  }
  return [...counts.values()];
}

/**
 * What an epoch's verdicts bring to its rewards, folded one verdict at a time (any order): the nodes with
 * confirmed fraud, coverage weight per node and availability probes per node. O(nodes).
 */
export class VerdictInputs {
  readonly cheaters = new Set<string>();
  /** Σ PoC reward unit × the beaconer's hex-density scale (both ×10⁴) over valid beacons and witnesses. */
  readonly coverage = new Map<string, bigint>();
  readonly probes = new Map<string, { up: number; total: number }>();
  /** Every node with an availability verdict (its stake is read at the epoch's end). */
  readonly availabilityNodes = new Set<string>();

  add(v: Verdict): this {
    if (v.kind === 'spot-check' && v.status === 'fraud') this.cheaters.add(v.nodeId);
    if (
      (v.kind === 'poc-beacon' || v.kind === 'poc-witness') &&
      v.status === 'valid' &&
      v.rewardUnit &&
      v.hexScale
    ) {
      const w = BigInt(Math.round(v.rewardUnit * UNIT_SCALE)) * BigInt(Math.round(v.hexScale * UNIT_SCALE));
      this.coverage.set(v.nodeId, (this.coverage.get(v.nodeId) ?? 0n) + w);
    }
    if (v.kind === 'availability') {
      this.availabilityNodes.add(v.nodeId);
      if (v.status === 'up' || v.status === 'down') {
        const p = this.probes.get(v.nodeId) ?? { up: 0, total: 0 };
        p.total++;
        if (v.status === 'up') p.up++;
        this.probes.set(v.nodeId, p);
      }
    }
    return this;
  }
}
