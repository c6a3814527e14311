import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { closeEpochs, rewardEntry } from '../../test/fixtures/epochs.ts';
import { keys } from '../../test/fixtures/reports.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import { verifyRewardEntry } from './manifest.ts';
import { PublishedEpochs } from './published-epochs.ts';

let oracle: NodeKeyPair;
beforeAll(async () => {
  [oracle] = await keys(1);
});

const entry = rewardEntry;

/** `epochs` closed epochs of an hour, epoch e rewarding `nodes - e` nodes, logged in a store; their manifests' own proofs. */
async function publish(epochs: number, nodes: number) {
  const store = new MemoryOracleStore();
  const built = await closeEpochs({
    store,
    oracle,
    epochs,
    nodes: (epoch) => nodes - epoch,
    epochMs: 3_600_000,
  });
  return { store, built };
}

describe('published epochs', () => {
  it('proves every node of an epoch as the manifest did, parsing it and building its tree once', async () => {
    const { store, built } = await publish(1, 300);
    const published = new PublishedEpochs({ store });
    expect(published.manifest(0)!.bytes).toEqual(built[0]!.bytes);
    for (let i = 0; i < 300; i++) {
      const nodeId = entry(0, i).nodeId;
      const p = (await published.proof(0, nodeId))!;
      expect(p.entry).toEqual(entry(0, i));
      expect(p.proof).toEqual(built[0]!.proofs.get(nodeId));
      expect(await verifyRewardEntry(p)).toBe(true);
    }
    expect(await published.proof(0, 'not-rewarded')).toBeUndefined();
    expect(await published.proof(9, entry(0, 0).nodeId)).toBeUndefined();
    expect(published.stats).toEqual({ parsed: 1, treesBuilt: 1 });
  });

  it('lists a node’s recent rewards per epoch, oldest first, reading each manifest once', async () => {
    const { store } = await publish(5, 6);
    const published = new PublishedEpochs({ store });
    // Epoch e rewards nodes 0 … 5 − e: node 3 is in epochs 0–2.
    const expected = [0, 1, 2, 3, 4].map((epoch) => ({
      epoch,
      amountBaseUnits: epoch <= 2 ? String(1000 * (epoch + 1) + 3) : undefined,
    }));
    expect(published.recentRewards('node-0003', 48)).toEqual(expected);
    expect(published.recentRewards('node-0003', 2)).toEqual(expected.slice(3));
    published.recentRewards('node-0001', 48);
    expect(published.stats.parsed).toBe(5);
    expect(new PublishedEpochs({ store: new MemoryOracleStore() }).recentRewards('node-0003', 48)).toEqual(
      [],
    );
  });

  it('answers proofs from many old epochs in rotation without rebuilding a tree per request', async () => {
    // 12 epochs, more than any cache of parsed epochs holds: today's thrash made every request a tree.
    const { store, built } = await publish(12, 40);
    const published = new PublishedEpochs({ store });
    for (let round = 0; round < 3; round++)
      for (let epoch = 0; epoch < 12; epoch++) {
        const nodeId = entry(epoch, round).nodeId;
        const p = (await published.proof(epoch, nodeId))!;
        expect(p.proof).toEqual(built[epoch]!.proofs.get(nodeId));
      }
    // A store written before trees were kept: each epoch built once, on its first request, then kept.
    expect(published.stats.treesBuilt).toBe(12);
    expect(published.stats.parsed).toBe(12);

    // Restarted on the same store: no manifest read, no tree built, a few indexed reads per proof.
    const calls = new Map<string, number>();
    const counted = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const restarted = new PublishedEpochs({ store: counted });
    let requests = 0;
    for (let round = 0; round < 3; round++)
      for (let epoch = 0; epoch < 12; epoch++) {
        const nodeId = entry(epoch, 20 + round).nodeId;
        expect((await restarted.proof(epoch, nodeId))!.proof).toEqual(built[epoch]!.proofs.get(nodeId));
        expect(await restarted.proof(epoch, 'not-rewarded')).toBeUndefined();
        expect(restarted.isClosed(epoch)).toBe(true);
        requests += 2;
      }
    expect(restarted.stats).toEqual({ parsed: 0, treesBuilt: 0 });
    expect(calls.get('getLogHeader')).toBeUndefined();
    expect(Object.fromEntries(calls)).toEqual({
      getRewardTree: requests + requests / 2,
      getRewardLeaf: requests,
      getMerkleHashes: requests / 2,
    });
  });

  it('keeps an epoch closed by the reward stage without building its tree again', async () => {
    const { store, built } = await publish(1, 30);
    const m = built[0]!;
    expect(
      store.saveRewardTree({
        epoch: 0,
        merkleRoot: m.signed.manifest.merkleRoot,
        entries: m.signed.manifest.entries,
        levels: m.levels,
      }),
    ).toBe(true);
    const published = new PublishedEpochs({ store });
    const nodeId = entry(0, 7).nodeId;
    expect((await published.proof(0, nodeId))!.proof).toEqual(m.proofs.get(nodeId));
    expect(published.stats).toEqual({ parsed: 0, treesBuilt: 0 });
    // Concurrent first requests of an epoch not kept yet share one build; an unclosed epoch builds none.
    const fresh = await publish(2, 30);
    const p2 = new PublishedEpochs({ store: fresh.store });
    await Promise.all(Array.from({ length: 10 }, (_, i) => p2.proof(1, entry(1, i).nodeId)));
    expect(await p2.proof(5, nodeId)).toBeUndefined();
    expect(p2.isClosed(5)).toBe(false);
    expect(p2.stats.treesBuilt).toBe(1);
  });
});
