import type { NodeKeyPair, Sha256Hex } from '@hexedge/protocol';
import { buildLogHeader, verdictHash } from '../rewards/epoch-log.ts';
import {
  computeRewardEntriesFromInputs,
  type RewardEntry,
  type RewardShares,
} from '../rewards/epoch-rewards.ts';
import type { EpochClock } from '../rewards/epochs.ts';
import { buildRewardManifest, type SignedRewardManifest } from '../rewards/manifest.ts';
import type { MerkleProof } from '../rewards/merkle.ts';
import { InferenceInputs, VerdictInputs } from '../rewards/reward-inputs.ts';
import { seedCommitment } from '../spot-check/sampling.ts';
import { GENESIS_LOG_ROOT } from '../store/memory-store.ts';
import type { EpochReader, OracleStore } from '../store/oracle-store.ts';
import { pacer, writeHashList } from './epoch-log-writer.ts';
import type { Stage } from './stage.ts';

/** Work rows per slice of the epoch grouped in one store call (~50 ms on SQLite), the slices sized from the work totals. */
const WORK_ROWS_PER_SLICE = 50_000;

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
  /** SHA-256 for the log's Merkle roots and verdict hashes (node:crypto's on Node: synchronous); WebCrypto's when absent. */
  sha256?: Sha256Hex;
}

/**
 * Reward: closes each finished epoch once, in order: splits the pool, signs the manifest and appends
 * the chained log entry. Everything it reads is stored, so closing the same epoch from the same store
 * gives the same bytes. At 1 700 answers a second an epoch holds ~6 M work records: the close streams
 * them (one consistent `readEpoch` view, read in slices and pages, pausing for the event loop every
 * CLOSE_SLICE_MS), holding O(nodes × models) reward inputs and O(log n) Merkle hashes, never the epoch.
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
    const pace = pacer();
    const reader = store.readEpoch({ sinceMs: startMs, untilMs: endMs });
    try {
      const inference = await this.#readInference({ reader, startMs, endMs, pace });
      const verdicts = new VerdictInputs();
      const verdictHashes: string[] = [];
      for (const v of reader.verdicts()) {
        verdicts.add(v);
        verdictHashes.push(await verdictHash(v, this.#o.sha256));
        await pace();
      }
      // O(verdicts) 64-digit strings (spot checks are ~2.5 % of receipts): sorted here, then streamed.
      verdictHashes.sort();
      const { stakeAt } = this.#o;
      const stakes = stakeAt
        ? new Map([...verdicts.availabilityNodes].map((id) => [id, stakeAt(id, endMs)]))
        : undefined;
      const { entries, unallocatedBaseUnits } = computeRewardEntriesFromInputs({
        poolBaseUnits: this.#o.poolBaseUnits,
        shares: this.#o.shares,
        inference,
        verdicts,
        ...(this.#o.requestFeeBaseUnits !== undefined
          ? { requestFeeBaseUnits: this.#o.requestFeeBaseUnits }
          : {}),
        ...(stakes ? { stakes } : {}),
      });
      const built = await this.#buildManifest({
        epoch,
        startMs,
        endMs,
        prevLogRoot,
        entries,
        unallocatedBaseUnits,
      });
      // What an interrupted close of this epoch wrote is dropped; the lists are written again whole.
      store.discardLogHashes(epoch);
      const list = { store, epoch, pace, ...(this.#o.sha256 ? { sha256: this.#o.sha256 } : {}) };
      const receipts = await writeHashList({ ...list, kind: 'receipts', hashes: reader.receiptHashes() });
      const verdictList = await writeHashList({ ...list, kind: 'verdicts', hashes: verdictHashes });
      const header = await buildLogHeader({
        epoch,
        startMs,
        endMs,
        prevLogRoot,
        manifestBytes: built.bytes,
        receiptsRoot: receipts.root,
        verdictsRoot: verdictList.root,
      });
      store.commitLogHeader(header, { receipts: receipts.count, verdicts: verdictList.count });
      // Kept once, now: a proof request then reads a leaf and a hash per level, never the manifest.
      // A crash between the two writes leaves the epoch to be built on its first proof request.
      const { merkleRoot, entries: manifestEntries } = built.signed.manifest;
      store.saveRewardTree({ epoch, merkleRoot, entries: manifestEntries, levels: built.levels });
      return built;
    } finally {
      reader.close();
    }
  }

  /** Rewarded work per node, in slices of the epoch sized to ~WORK_ROWS_PER_SLICE rows each. */
  async #readInference(options: {
    reader: EpochReader;
    startMs: number;
    endMs: number;
    pace: () => Promise<void>;
  }): Promise<InferenceInputs> {
    const { reader, startMs, endMs, pace } = options;
    const inference = new InferenceInputs(this.#o.modelCostUnits);
    const rows = this.#o.store.workTotals({ sinceMs: startMs, untilMs: endMs }).requests;
    const sliceMs = Math.max(
      1,
      Math.ceil((endMs - startMs) / Math.max(1, Math.ceil(rows / WORK_ROWS_PER_SLICE))),
    );
    for (let sinceMs = startMs; sinceMs < endMs; sinceMs += sliceMs) {
      inference.add(reader.rewardedWork({ sinceMs, untilMs: Math.min(endMs, sinceMs + sliceMs) }));
      await pace();
    }
    return inference;
  }

  async #buildManifest(options: {
    epoch: number;
    startMs: number;
    endMs: number;
    prevLogRoot: string;
    entries: RewardEntry[];
    unallocatedBaseUnits: bigint;
  }): Promise<Awaited<ReturnType<typeof buildRewardManifest>>> {
    const { epoch } = options;
    const [samplingSeed, nextSeed] = await Promise.all([
      this.#o.samplingSeedFor(epoch),
      this.#o.samplingSeedFor(epoch + 1),
    ]);
    return buildRewardManifest({
      oracle: this.#o.oracle,
      epoch,
      startMs: options.startMs,
      endMs: options.endMs,
      poolBaseUnits: this.#o.poolBaseUnits,
      shares: this.#o.shares,
      entries: options.entries,
      unallocatedBaseUnits: options.unallocatedBaseUnits,
      prevLogRoot: options.prevLogRoot,
      samplingSeed,
      nextSamplingSeedCommitment: await seedCommitment(nextSeed),
    });
  }
}
