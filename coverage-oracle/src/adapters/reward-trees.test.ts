import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { closeEpochs as closeEpochsIn, rewardEntry } from '../../test/fixtures/epochs.ts';
import { keys } from '../../test/fixtures/reports.ts';
import { verifyRewardEntry } from '../rewards/manifest.ts';
import { PublishedEpochs } from '../rewards/published-epochs.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import { SqliteOracleStore } from './node.ts';

let oracle: NodeKeyPair;
beforeAll(async () => {
  [oracle] = await keys(1);
});
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dbPath = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-reward-trees-'));
  dirs.push(dir);
  return path.join(dir, 'oracle.db');
};

const entry = rewardEntry;
/** Closes `epochs` epochs of 1 s in `store` (log entries only, as a store written before trees were kept). */
const closeEpochs = (store: OracleStore, epochs: number, nodes: (epoch: number) => number) =>
  closeEpochsIn({ store, oracle, epochs, nodes, epochMs: 1000 });

describe.each([
  ['memory', () => new MemoryOracleStore()],
  ['sqlite', () => new SqliteOracleStore({ path: dbPath() })],
] as const)('kept reward trees (%s store)', (_name, makeStore) => {
  it('answers every leaf’s proof as the manifest did, for trees of 0, 1, 2 and 37 leaves', async () => {
    const store = makeStore();
    const sizes = [0, 1, 2, 37];
    const built = await closeEpochs(store, sizes.length, (epoch) => sizes[epoch]!);
    for (const [epoch, m] of built.entries()) {
      const { merkleRoot, entries } = m.signed.manifest;
      expect(store.getRewardTree(epoch)).toBeUndefined();
      expect(store.saveRewardTree({ epoch, merkleRoot, entries, levels: m.levels })).toBe(true);
      // Kept once: a second save (a racing first request) writes nothing.
      expect(store.saveRewardTree({ epoch, merkleRoot: 'f'.repeat(64), entries: [], levels: [] })).toBe(
        false,
      );
      expect(store.getRewardTree(epoch)).toEqual({ epoch, merkleRoot, leafCount: entries.length });
    }
    const published = new PublishedEpochs({ store });
    for (const [epoch, m] of built.entries())
      for (const e of m.signed.manifest.entries) {
        const p = (await published.proof(epoch, e.nodeId))!;
        expect(p).toEqual({
          entry: e,
          proof: m.proofs.get(e.nodeId),
          merkleRoot: m.signed.manifest.merkleRoot,
        });
        expect(await verifyRewardEntry(p)).toBe(true);
      }
    expect(published.stats.treesBuilt).toBe(0);
    expect(store.getRewardLeaf({ epoch: 3, nodeId: 'node-9999' })).toBeUndefined();
    expect(() => store.getMerkleHashes({ epoch: 3, positions: [{ level: 0, index: 37 }] })).toThrow(
      /epoch 3 keeps no Merkle hash at 0\/37/,
    );
  });
});

describe('kept reward trees: a SQLite store written before them', () => {
  it('builds each old epoch’s tree on its first proof request, keeps it, and reads it after a restart', async () => {
    const file = dbPath();
    let store = new SqliteOracleStore({ path: file });
    const built = await closeEpochs(store, 10, () => 25);
    store.close();
    // Today's schema: the log without the tree tables.
    const db = new DatabaseSync(file);
    db.exec('DROP TABLE reward_trees; DROP TABLE reward_leaves; DROP TABLE merkle_hashes;');
    db.close();

    store = new SqliteOracleStore({ path: file });
    let published = new PublishedEpochs({ store });
    for (let round = 0; round < 2; round++)
      for (let epoch = 0; epoch < 10; epoch++) {
        const nodeId = entry(epoch, round).nodeId;
        expect((await published.proof(epoch, nodeId))!.proof).toEqual(built[epoch]!.proofs.get(nodeId));
      }
    expect(published.stats.treesBuilt).toBe(10);
    store.close();

    store = new SqliteOracleStore({ path: file });
    published = new PublishedEpochs({ store });
    for (let epoch = 0; epoch < 10; epoch++) {
      const nodeId = entry(epoch, 24).nodeId;
      expect((await published.proof(epoch, nodeId))!.proof).toEqual(built[epoch]!.proofs.get(nodeId));
    }
    expect(published.stats).toEqual({ parsed: 0, treesBuilt: 0 });
    store.close();
  });
});
