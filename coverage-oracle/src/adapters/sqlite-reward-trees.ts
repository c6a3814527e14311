import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { HexEdgeError } from '@hexedge/protocol';
import type { RewardLeafRecord, RewardTreeInput, RewardTreeRecord } from '../store/records.ts';

/**
 * The SQLite store's kept reward trees: per closed epoch its root and leaf count (`reward_trees`), each
 * rewarded node's entry and leaf index (`reward_leaves`), and every Merkle level below the root, one row
 * per hash (`merkle_hashes`, 32-byte blobs: ~2 rows per leaf). A proof is one leaf read and one point
 * read per level. A data dir from before these tables has none: its epochs are built on first read.
 */
export class SqliteRewardTrees {
  readonly #q: Record<string, StatementSync>;
  readonly #transaction: <T>(write: () => T) => T;

  constructor(db: DatabaseSync, transaction: <T>(write: () => T) => T) {
    this.#transaction = transaction;
    db.exec(`
      CREATE TABLE IF NOT EXISTS reward_trees (epoch INTEGER PRIMARY KEY, merkle_root TEXT NOT NULL, leaf_count INTEGER NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS reward_leaves (epoch INTEGER NOT NULL, node_id TEXT NOT NULL, leaf_index INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (epoch, node_id)) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS merkle_hashes (epoch INTEGER NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (epoch, level, idx)) STRICT, WITHOUT ROWID;
    `);
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      getTree: p('SELECT merkle_root, leaf_count FROM reward_trees WHERE epoch = ?'),
      insertTree: p('INSERT INTO reward_trees (epoch, merkle_root, leaf_count) VALUES (?, ?, ?)'),
      insertLeaf: p('INSERT INTO reward_leaves (epoch, node_id, leaf_index, json) VALUES (?, ?, ?, ?)'),
      getLeaf: p('SELECT leaf_index, json FROM reward_leaves WHERE epoch = ? AND node_id = ?'),
      insertHash: p('INSERT INTO merkle_hashes (epoch, level, idx, hash) VALUES (?, ?, ?, ?)'),
      getHash: p('SELECT hash FROM merkle_hashes WHERE epoch = ? AND level = ? AND idx = ?'),
    };
  }

  /** One transaction: a crash mid-way leaves no half tree (the epoch is then built again on first read). */
  save(tree: RewardTreeInput): boolean {
    return this.#transaction(() => {
      if (this.#q.getTree!.get(tree.epoch)) return false;
      this.#q.insertTree!.run(tree.epoch, tree.merkleRoot, tree.entries.length);
      tree.entries.forEach((entry, i) =>
        this.#q.insertLeaf!.run(tree.epoch, entry.nodeId, i, JSON.stringify(entry)),
      );
      tree.levels
        .filter((level) => level.length > 1)
        .forEach((level, depth) =>
          level.forEach((hash, i) => this.#q.insertHash!.run(tree.epoch, depth, i, hash)),
        );
      return true;
    });
  }

  get(epoch: number): RewardTreeRecord | undefined {
    const row = this.#q.getTree!.get(epoch);
    return row
      ? { epoch, merkleRoot: row.merkle_root as string, leafCount: Number(row.leaf_count) }
      : undefined;
  }

  leaf(options: { epoch: number; nodeId: string }): RewardLeafRecord | undefined {
    const row = this.#q.getLeaf!.get(options.epoch, options.nodeId);
    if (!row) return undefined;
    return {
      leafIndex: Number(row.leaf_index),
      entry: JSON.parse(row.json as string) as RewardLeafRecord['entry'],
    };
  }

  hashes(options: {
    epoch: number;
    positions: ReadonlyArray<{ level: number; index: number }>;
  }): Uint8Array[] {
    return options.positions.map(({ level, index }) => {
      const row = this.#q.getHash!.get(options.epoch, level, index);
      if (!row)
        throw new HexEdgeError(
          'INTERNAL',
          `epoch ${options.epoch} keeps no Merkle hash at ${level}/${index}`,
        );
      return new Uint8Array(row.hash as Uint8Array);
    });
  }
}
