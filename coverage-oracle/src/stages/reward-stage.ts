import type { NodeKeyPair } from '@hexedge/protocol';
import { buildLogEntry } from '../rewards/epoch-log.ts';
import { computeRewardEntries, type RewardShares } from '../rewards/epoch-rewards.ts';
import type { EpochClock } from '../rewards/epochs.ts';
import { buildRewardManifest, type SignedRewardManifest } from '../rewards/manifest.ts';
import type { MerkleProof } from '../rewards/merkle.ts';
import { seedCommitment } from '../spot-check/sampling.ts';
import { GENESIS_LOG_ROOT } from '../store/memory-store.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { Stage } from './stage.ts';

export interface RewardStageOptions {
  store: OracleStore;
  oracle: NodeKeyPair;
  clock: EpochClock;
  poolBaseUnits: bigint;
  shares: RewardShares;
  modelCostUnits?: Readonly<Record<string, number>>;
  /** Caps each node's inference reward at the fees its rewarded requests paid. */
  requestFeeBaseUnits?: bigint;
  /** Bonded stake per node at a moment: availability is weighted by it. */
  stakeAt?: (nodeId: string, atMs: number) => bigint;
  samplingSeedFor(epoch: number): Promise<string>;
  /** The first epoch to close when the log is empty. */
  firstEpoch: number;
  /** Wait this long after an epoch ends before closing it, so its last rounds and checks are judged. */
  settleMs: number;
  /**
   * Whether everything received before `endMs` has been judged (reports and PoC rounds): an epoch is
   * closed only then, however long after `settleMs` that is. Without it an oracle whose verify stage
   * lags (a load peak, a restart with a backlog) would close the epoch without that work, and the
   * nodes that did it would never be paid for it.
   */
  isJudgedBefore?: (endMs: number) => boolean;
}

/**
 * Reward: closes each finished epoch once, in order: splits the pool, signs the manifest and appends
 * the chained log entry. Everything it reads is stored, so closing the same epoch from the same store
 * gives the same bytes.
 */
export class RewardStage implements Stage {
  readonly name = 'reward';
  readonly #o: RewardStageOptions;

  constructor(options: RewardStageOptions) {
    this.#o = options;
  }

  async tick(nowMs: number): Promise<number> {
    let closed = 0;
    for (;;) {
      const last = this.#o.store.listRecentLogHeaders(1).at(-1);
      const epoch = last ? last.epoch + 1 : this.#o.firstEpoch;
      const { endMs } = this.#o.clock.boundsOf(epoch);
      if (endMs + this.#o.settleMs > nowMs) return closed;
      if (this.#o.isJudgedBefore && !this.#o.isJudgedBefore(endMs)) return closed;
      await this.closeEpoch(epoch, last?.logRoot ?? GENESIS_LOG_ROOT);
      closed++;
    }
  }

  async closeEpoch(
    epoch: number,
    prevLogRoot: string,
  ): Promise<{ signed: SignedRewardManifest; bytes: Uint8Array; proofs: Map<string, MerkleProof> }> {
    const { store, clock } = this.#o;
    const { startMs, endMs } = clock.boundsOf(epoch);
    const work = store.listWork({ sinceMs: startMs, untilMs: endMs });
    const verdicts = store.listVerdicts({ sinceMs: startMs, untilMs: endMs });
    const { stakeAt } = this.#o;
    const stakes = stakeAt
      ? new Map(
          [...new Set(verdicts.filter((v) => v.kind === 'availability').map((v) => v.nodeId))].map((id) => [
            id,
            stakeAt(id, endMs),
          ]),
        )
      : undefined;
    const { entries, unallocatedBaseUnits } = computeRewardEntries({
      poolBaseUnits: this.#o.poolBaseUnits,
      shares: this.#o.shares,
      work,
      verdicts,
      ...(this.#o.modelCostUnits ? { modelCostUnits: this.#o.modelCostUnits } : {}),
      ...(this.#o.requestFeeBaseUnits !== undefined
        ? { requestFeeBaseUnits: this.#o.requestFeeBaseUnits }
        : {}),
      ...(stakes ? { stakes } : {}),
    });
    const [samplingSeed, nextSeed] = await Promise.all([
      this.#o.samplingSeedFor(epoch),
      this.#o.samplingSeedFor(epoch + 1),
    ]);
    const built = await buildRewardManifest({
      oracle: this.#o.oracle,
      epoch,
      startMs,
      endMs,
      poolBaseUnits: this.#o.poolBaseUnits,
      shares: this.#o.shares,
      entries,
      unallocatedBaseUnits,
      prevLogRoot,
      samplingSeed,
      nextSamplingSeedCommitment: await seedCommitment(nextSeed),
    });
    const entry = await buildLogEntry({
      epoch,
      startMs,
      endMs,
      prevLogRoot,
      manifestBytes: built.bytes,
      receiptHashes: work.map((w) => w.receiptHash),
      verdicts,
    });
    store.appendLogEntry(entry);
    // Kept once, now: a proof request then reads a leaf and a hash per level, never the manifest.
    // A crash between the two writes leaves the epoch to be built on its first proof request.
    const { merkleRoot, entries: manifestEntries } = built.signed.manifest;
    store.saveRewardTree({ epoch, merkleRoot, entries: manifestEntries, levels: built.levels });
    return built;
  }
}
