import { canonicalBytes, HexEdgeError, trimOldest } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';
import type { RewardTreeRecord } from '../store/records.ts';
import type { RewardEntry } from './epoch-rewards.ts';
import { rewardEntryBytes, type SignedRewardManifest } from './manifest.ts';
import {
  buildMerkleLevels,
  proofFromHashes,
  proofPositions,
  rootOfLevels,
  type MerkleProof,
} from './merkle.ts';

/** Epochs kept parsed (manifest requests): the recent ones. */
const MAX_EPOCH_VIEWS = 8;
/** Epochs whose reward per node is kept (a node report lists 48). */
const MAX_REWARD_MAPS = 64;

interface EpochView {
  signed: SignedRewardManifest;
  bytes: Uint8Array;
}

/**
 * What requests read of closed epochs. A published manifest never changes (the log is append-only and
 * chained), so its Merkle tree is built once per epoch and kept in the store (by the reward stage when it
 * closes the epoch; for an epoch from before, on its first proof request): a manifest lists every
 * rewarded node, and a public proof request that rebuilt the tree hashed twice that many times, and one
 * that parsed the manifest read all of it; a cache of a few epochs did not help a caller rotating
 * through more. A proof is now the node's leaf and one hash per level, read from the store. Manifests
 * (whose answer is the whole manifest anyway) stay parsed for the last few epochs, and a few dozen
 * epochs' reward per node for node reports.
 */
export class PublishedEpochs {
  readonly #store: OracleStore;
  readonly #views = new Map<number, EpochView>();
  readonly #rewards = new Map<number, Map<string, string>>();
  readonly #building = new Map<number, Promise<RewardTreeRecord | undefined>>();
  /** Manifests parsed and trees built here (tests: a tree at most once per epoch and store, whatever the requests). */
  readonly stats = { parsed: 0, treesBuilt: 0 };

  constructor(options: { store: OracleStore }) {
    this.#store = options.store;
  }

  /** The signed manifest of a closed epoch and its published bytes, or undefined. */
  manifest(epoch: number): { signed: SignedRewardManifest; bytes: Uint8Array } | undefined {
    const view = this.#view(epoch);
    return view && { signed: view.signed, bytes: view.bytes };
  }

  /**
   * A node's entry in an epoch's manifest with its Merkle proof, or undefined when it has none: read
   * from the epoch's kept tree (the node's leaf and one hash per level), whichever epochs are asked in
   * whatever rotation. An epoch closed before trees were kept is built once, on its first request, and
   * kept in the store.
   */
  async proof(
    epoch: number,
    nodeId: string,
  ): Promise<{ entry: RewardEntry; proof: MerkleProof; merkleRoot: string } | undefined> {
    const tree = await this.#tree(epoch);
    const leaf = tree && this.#store.getRewardLeaf({ epoch, nodeId });
    if (!tree || !leaf) return undefined;
    const positions = proofPositions({ leafCount: tree.leafCount, leafIndex: leaf.leafIndex });
    const hashes = this.#store.getMerkleHashes({ epoch, positions });
    return {
      entry: leaf.entry,
      proof: proofFromHashes({ leafIndex: leaf.leafIndex, positions, hashes }),
      merkleRoot: tree.merkleRoot,
    };
  }

  /**
   * True when `epoch` is closed. Cheap after `proof`: a closed epoch's tree is kept by then, so only an
   * epoch not closed reads the log (a miss).
   */
  isClosed(epoch: number): boolean {
    return this.#store.getRewardTree(epoch) !== undefined || this.#store.getLogHeader(epoch) !== undefined;
  }

  /** The epoch's kept tree; built from its manifest and kept when the store has none (a store from before). */
  async #tree(epoch: number): Promise<RewardTreeRecord | undefined> {
    const kept = this.#store.getRewardTree(epoch);
    if (kept) return kept;
    // Concurrent first requests for one epoch share one build.
    let building = this.#building.get(epoch);
    if (!building) {
      building = this.#buildAndKeep(epoch).finally(() => this.#building.delete(epoch));
      this.#building.set(epoch, building);
    }
    return building;
  }

  async #buildAndKeep(epoch: number): Promise<RewardTreeRecord | undefined> {
    const signed = this.#views.get(epoch)?.signed ?? this.#parse(epoch);
    if (!signed) return undefined;
    this.stats.treesBuilt++;
    const { entries, merkleRoot } = signed.manifest;
    const levels = await buildMerkleLevels(entries.map(rewardEntryBytes));
    if (rootOfLevels(levels) !== merkleRoot)
      throw new HexEdgeError('INTERNAL', `epoch ${epoch}'s entries do not hash to its root ${merkleRoot}`);
    this.#store.saveRewardTree({ epoch, merkleRoot, entries, levels });
    return this.#store.getRewardTree(epoch);
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
