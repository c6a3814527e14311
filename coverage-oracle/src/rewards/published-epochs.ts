import { canonicalBytes, trimOldest } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';
import type { RewardEntry } from './epoch-rewards.ts';
import { rewardEntryBytes, type SignedRewardManifest } from './manifest.ts';
import { buildMerkleLevels, proofFromLevels, type MerkleProof } from './merkle.ts';

/** Epochs kept parsed with their Merkle levels (manifest and proof requests): the recent ones. */
const MAX_EPOCH_VIEWS = 8;
/** Epochs whose reward per node is kept (a node report lists 48). */
const MAX_REWARD_MAPS = 64;

interface EpochView {
  signed: SignedRewardManifest;
  bytes: Uint8Array;
  indexOf: Map<string, number>;
  levels?: Promise<Uint8Array[][]>;
}

/**
 * What requests read of closed epochs, kept parsed. A published manifest never changes (the log is
 * append-only and chained), so it is parsed, indexed and its Merkle tree built once per epoch, not per
 * request: a manifest lists every rewarded node, and a public proof request that rebuilt the tree
 * hashed twice that many times, an easy way to keep the oracle busy. Bounded: the last few epochs'
 * views, and a few dozen epochs' reward per node.
 */
export class PublishedEpochs {
  readonly #store: OracleStore;
  readonly #views = new Map<number, EpochView>();
  readonly #rewards = new Map<number, Map<string, string>>();
  /** Manifests parsed and trees built (tests: once per epoch, whatever the requests). */
  readonly stats = { parsed: 0, treesBuilt: 0 };

  constructor(options: { store: OracleStore }) {
    this.#store = options.store;
  }

  /** The signed manifest of a closed epoch and its published bytes, or undefined. */
  manifest(epoch: number): { signed: SignedRewardManifest; bytes: Uint8Array } | undefined {
    const view = this.#view(epoch);
    return view && { signed: view.signed, bytes: view.bytes };
  }

  /** A node's entry in an epoch's manifest with its Merkle proof, or undefined when it has none. */
  async proof(
    epoch: number,
    nodeId: string,
  ): Promise<{ entry: RewardEntry; proof: MerkleProof; merkleRoot: string } | undefined> {
    const view = this.#view(epoch);
    const index = view?.indexOf.get(nodeId);
    if (!view || index === undefined) return undefined;
    if (!view.levels) {
      this.stats.treesBuilt++;
      view.levels = buildMerkleLevels(view.signed.manifest.entries.map(rewardEntryBytes));
      view.levels.catch(() => (view.levels = undefined));
    }
    const { manifest } = view.signed;
    return {
      entry: manifest.entries[index]!,
      proof: proofFromLevels(await view.levels, index),
      merkleRoot: manifest.merkleRoot,
    };
  }

  /**
   * Each of the last `count` closed epochs with what `nodeId` earned in it (undefined: no entry),
   * oldest first. Epochs are consecutive (the log chains each to the one before), so only the last
   * epoch's header is read to know them.
   */
  recentRewards(
    nodeId: string,
    count: number,
  ): Array<{ epoch: number; amountBaseUnits: string | undefined }> {
    const last = this.#store.listRecentLogHeaders(1).at(-1);
    if (!last) return [];
    const out: Array<{ epoch: number; amountBaseUnits: string | undefined }> = [];
    for (let epoch = Math.max(0, last.epoch - count + 1); epoch <= last.epoch; epoch++) {
      const rewards = this.#rewardsOf(epoch);
      if (rewards) out.push({ epoch, amountBaseUnits: rewards.get(nodeId) });
    }
    return out;
  }

  #rewardsOf(epoch: number): Map<string, string> | undefined {
    const cached = this.#rewards.get(epoch);
    if (cached) return cached;
    const signed = this.#parse(epoch);
    if (!signed) return undefined;
    const rewards = new Map(signed.manifest.entries.map((e) => [e.nodeId, e.amountBaseUnits]));
    this.#rewards.set(epoch, rewards);
    trimOldest(this.#rewards, MAX_REWARD_MAPS);
    return rewards;
  }

  #view(epoch: number): EpochView | undefined {
    const cached = this.#views.get(epoch);
    if (cached) {
      // Most recently used last: the oldest-used is evicted first.
      this.#views.delete(epoch);
      this.#views.set(epoch, cached);
      return cached;
    }
    const signed = this.#parse(epoch);
    if (!signed) return undefined;
    const view: EpochView = {
      signed,
      bytes: canonicalBytes(signed),
      indexOf: new Map(signed.manifest.entries.map((e, i) => [e.nodeId, i])),
    };
    this.#views.set(epoch, view);
    trimOldest(this.#views, MAX_EPOCH_VIEWS);
    return view;
  }

  #parse(epoch: number): SignedRewardManifest | undefined {
    const header = this.#store.getLogHeader(epoch);
    if (!header) return undefined;
    this.stats.parsed++;
    return JSON.parse(header.manifestJson) as SignedRewardManifest;
  }
}
