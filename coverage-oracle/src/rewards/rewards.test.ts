import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NodeKeyPair } from '@hexedge/protocol';
import { keys } from '../../test/fixtures/reports.ts';
import type { Verdict, WorkRecord } from '../store/records.ts';
import { MemoryOracleStore, GENESIS_LOG_ROOT } from '../store/memory-store.ts';
import { buildLogEntry, findBrokenLogEntry } from './epoch-log.ts';
import { readLogEntries } from '../../test/fixtures/log-entries.ts';
import { computeRewardEntries, DEFAULT_REWARD_SHARES } from './epoch-rewards.ts';
import { buildRewardManifest, verifyRewardEntry, verifyRewardManifest } from './manifest.ts';
import { buildMerkleTree, verifyMerkleProof } from './merkle.ts';
import { splitProportionally } from './split.ts';

let oracle: NodeKeyPair;
let nodes: string[];
beforeAll(async () => {
  const ks = await keys(6);
  oracle = ks[0]!;
  nodes = ks
    .slice(1)
    .map((k) => k.nodeId)
    .sort();
});

function epochInputs(): { work: WorkRecord[]; verdicts: Verdict[] } {
  const work = Array.from({ length: 37 }, (_, i) => ({
    receiptHash: i.toString(16).padStart(64, '0'),
    nodeId: nodes[i % 3]!,
    modelName: i % 2 ? 'heavy' : 'light',
    modelVersion: '1',
    atMs: 1000 + i,
    sampled: false,
  }));
  const verdicts: Verdict[] = [
    {
      id: 'b1',
      nodeId: nodes[0]!,
      kind: 'poc-beacon',
      status: 'valid',
      atMs: 1,
      rewardUnit: 1.2,
      hexScale: 0.5,
    },
    {
      id: 'w1',
      nodeId: nodes[3]!,
      kind: 'poc-witness',
      status: 'valid',
      atMs: 1,
      rewardUnit: 0.76,
      hexScale: 0.5,
    },
    {
      id: 'w2',
      nodeId: nodes[1]!,
      kind: 'poc-witness',
      status: 'invalid',
      reason: 'BAD_RSSI',
      atMs: 1,
      rewardUnit: 0,
      hexScale: 0.5,
    },
    { id: 'a1', nodeId: nodes[2]!, kind: 'availability', status: 'up', atMs: 1 },
    { id: 'a2', nodeId: nodes[2]!, kind: 'availability', status: 'down', atMs: 2 },
    { id: 'a3', nodeId: nodes[1]!, kind: 'availability', status: 'up', atMs: 2 },
    { id: 'f1', nodeId: nodes[4]!, kind: 'spot-check', status: 'fraud', atMs: 3 },
    { id: 'a4', nodeId: nodes[4]!, kind: 'availability', status: 'up', atMs: 2 },
  ];
  return { work, verdicts };
}

describe('splitProportionally', () => {
  it('always sums to the total exactly, whatever the weights', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 30 }),
        (total, ws) => {
          const parts = splitProportionally({
            totalBaseUnits: total,
            weights: ws.map((weight, i) => ({ id: `n${i}`, weight })),
          });
          const sum = [...parts.values()].reduce((a, b) => a + b, 0n);
          return ws.some((w) => w > 0n) ? sum === total : sum === 0n;
        },
      ),
    );
  });

  it('gives the leftover units to the largest remainders, ties to the smaller id', () => {
    const parts = splitProportionally({
      totalBaseUnits: 10n,
      weights: [
        { id: 'b', weight: 1n },
        { id: 'a', weight: 1n },
        { id: 'c', weight: 1n },
      ],
    });
    expect(Object.fromEntries(parts)).toEqual({ a: 4n, b: 3n, c: 3n });
  });
});

describe('epoch rewards', () => {
  it('shares sum to the pool exactly, by work cost, coverage and availability; fraud forfeits', () => {
    const { work, verdicts } = epochInputs();
    const pool = 1_000_000_007n;
    const { entries, unallocatedBaseUnits } = computeRewardEntries({
      poolBaseUnits: pool,
      shares: DEFAULT_REWARD_SHARES,
      work,
      verdicts,
      modelCostUnits: { heavy: 5 },
    });
    expect(unallocatedBaseUnits).toBe(0n);
    expect(entries.reduce((s, e) => s + BigInt(e.amountBaseUnits), 0n)).toBe(pool);
    expect(entries.find((e) => e.nodeId === nodes[4])).toBeUndefined();
    const byCategory = (k: 'inferenceBaseUnits' | 'coverageBaseUnits' | 'availabilityBaseUnits') =>
      entries.reduce((s, e) => s + BigInt(e[k]), 0n);
    expect(byCategory('inferenceBaseUnits')).toBe(600_000_004n);
    expect(byCategory('coverageBaseUnits') + byCategory('availabilityBaseUnits')).toBe(pool - 600_000_004n);
    // Coverage weight is unit × scale in 10⁻⁴ units: 1.2 × 0.5 → 12000 × 5000.
    expect(entries.find((e) => e.nodeId === nodes[0])!.coverageWeight).toBe(String(12_000 * 5000));
  });

  it('passes an unearned category to the others, and leaves an empty epoch unallocated', () => {
    const { work } = epochInputs();
    const { entries } = computeRewardEntries({
      poolBaseUnits: 1000n,
      shares: DEFAULT_REWARD_SHARES,
      work,
      verdicts: [],
    });
    expect(entries.reduce((s, e) => s + BigInt(e.amountBaseUnits), 0n)).toBe(1000n);
    expect(
      computeRewardEntries({ poolBaseUnits: 1000n, shares: DEFAULT_REWARD_SHARES, work: [], verdicts: [] }),
    ).toEqual({ entries: [], unallocatedBaseUnits: 1000n });
  });
});

describe('rewards follow verified work, not identity count', () => {
  const work = (nodeId: string, count: number, status?: WorkRecord['status']): WorkRecord[] =>
    Array.from({ length: count }, (_, i) => ({
      receiptHash: `${nodeId}-${status ?? 'x'}-${i}`,
      nodeId,
      modelName: 'm',
      modelVersion: '1',
      atMs: i,
      sampled: status !== 'unchecked',
      ...(status ? { status } : {}),
    }));

  it('pays inference only for unchecked or passed receipts, at most the request fee each', () => {
    const [a, b] = nodes;
    const { entries, unallocatedBaseUnits } = computeRewardEntries({
      poolBaseUnits: 1_000_000n,
      shares: { inferenceBps: 10_000, coverageBps: 0, availabilityBps: 0 },
      work: [
        ...work(a!, 10, 'pass'),
        ...work(a!, 10, 'unchecked'),
        ...work(a!, 30, 'inconclusive'),
        ...work(a!, 5, 'unbound'),
        ...work(b!, 20, 'unchecked'),
      ],
      verdicts: [],
      requestFeeBaseUnits: 1000n,
    });
    const inference = (id: string) => BigInt(entries.find((e) => e.nodeId === id)!.inferenceBaseUnits);
    expect(entries.find((e) => e.nodeId === a)!.inferenceWeight).toBe('20');
    // Each would get 500 000 by weight; the fee cap holds each to 20 × 1000: paying your own node earns no more than it pays.
    expect(inference(a!)).toBe(20_000n);
    expect(inference(b!)).toBe(20_000n);
    expect(unallocatedBaseUnits).toBe(1_000_000n - 40_000n);
  });

  it('weights verified uptime by bonded stake: identities splitting one stake earn what one identity with it would', () => {
    const [whale, honest, ...sybils] = nodes;
    const up = (id: string, n: number) =>
      Array.from({ length: n }, (_, i): Verdict => ({
        id: `${id}${i}`,
        nodeId: id,
        kind: 'availability',
        status: 'up',
        atMs: i,
      }));
    const stakes = new Map<string, bigint>([
      [whale!, 0n],
      [honest!, 999n],
      ...sybils.map((id): [string, bigint] => [id, 999n / BigInt(sybils.length)]),
    ]);
    const uncorroborated: Verdict = {
      id: 'u',
      nodeId: honest!,
      kind: 'availability',
      status: 'inconclusive',
      atMs: 9,
    };
    const { entries } = computeRewardEntries({
      poolBaseUnits: 900_000n,
      shares: { inferenceBps: 0, coverageBps: 0, availabilityBps: 10_000 },
      work: [],
      verdicts: [...[whale!, honest!, ...sybils].flatMap((id) => up(id, 3)), uncorroborated],
      stakes,
    });
    const amount = (id: string) => BigInt(entries.find((e) => e.nodeId === id)?.availabilityBaseUnits ?? '0');
    expect(amount(whale!)).toBe(0n);
    expect(amount(honest!)).toBe(450_000n);
    expect(sybils.reduce((s, id) => s + amount(id), 0n)).toBe(450_000n);
  });
});

describe('Merkle tree', () => {
  it('proves every leaf for every size, and refuses tampered leaves, proofs and roots', async () => {
    for (const size of [1, 2, 3, 5, 8, 13]) {
      const leaves = Array.from({ length: size }, (_, i) => new TextEncoder().encode(`leaf ${i}`));
      const { root, proofs } = await buildMerkleTree(leaves);
      for (let i = 0; i < size; i++)
        expect(await verifyMerkleProof({ leaf: leaves[i]!, proof: proofs[i]!, root })).toBe(true);
      expect(
        await verifyMerkleProof({ leaf: new TextEncoder().encode('leaf X'), proof: proofs[0]!, root }),
      ).toBe(false);
      if (size > 1) {
        const bad = {
          ...proofs[0]!,
          siblings: proofs[0]!.siblings.map((s, j) =>
            j === 0 ? { ...s, hash: s.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) } : s,
          ),
        };
        expect(await verifyMerkleProof({ leaf: leaves[0]!, proof: bad, root })).toBe(false);
      }
    }
  });

  it('separates leaves from inner nodes (a node hash cannot pose as a leaf)', async () => {
    const leaves = [1, 2, 3, 4].map((i) => new Uint8Array([i]));
    const { root } = await buildMerkleTree(leaves);
    expect((await buildMerkleTree(leaves.slice(0, 2))).root).not.toBe(root);
  });
});

describe('reward manifest', () => {
  async function build() {
    const { work, verdicts } = epochInputs();
    const { entries, unallocatedBaseUnits } = computeRewardEntries({
      poolBaseUnits: 5_000_000n,
      shares: DEFAULT_REWARD_SHARES,
      work,
      verdicts,
    });
    return buildRewardManifest({
      oracle,
      epoch: 7,
      startMs: 0,
      endMs: 3_600_000,
      poolBaseUnits: 5_000_000n,
      shares: DEFAULT_REWARD_SHARES,
      entries: [...entries].reverse(),
      unallocatedBaseUnits,
      prevLogRoot: GENESIS_LOG_ROOT,
    });
  }

  it('is byte-identical across two runs, signed, and every entry proves against the root', async () => {
    const [a, b] = [await build(), await build()];
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(await verifyRewardManifest(a.signed, oracle.nodeId)).toBe(true);
    for (const entry of a.signed.manifest.entries) {
      expect(
        await verifyRewardEntry({
          entry,
          proof: a.proofs.get(entry.nodeId)!,
          merkleRoot: a.signed.manifest.merkleRoot,
        }),
      ).toBe(true);
    }
    const entry = a.signed.manifest.entries[0]!;
    const inflated = { ...entry, amountBaseUnits: (BigInt(entry.amountBaseUnits) + 1n).toString() };
    expect(
      await verifyRewardEntry({
        entry: inflated,
        proof: a.proofs.get(entry.nodeId)!,
        merkleRoot: a.signed.manifest.merkleRoot,
      }),
    ).toBe(false);
    const tampered = {
      ...a.signed,
      manifest: { ...a.signed.manifest, entries: [inflated, ...a.signed.manifest.entries.slice(1)] },
    };
    expect(await verifyRewardManifest(tampered)).toBe(false);
    expect(await verifyRewardManifest(a.signed, nodes[0])).toBe(false);
  });

  it('chains log entries epoch to epoch and finds the first broken one', async () => {
    const store = new MemoryOracleStore();
    const { verdicts } = epochInputs();
    let prev = GENESIS_LOG_ROOT;
    for (let epoch = 0; epoch < 3; epoch++) {
      const m = await build();
      const entry = await buildLogEntry({
        epoch,
        startMs: 0,
        endMs: 1,
        prevLogRoot: prev,
        manifestBytes: m.bytes,
        receiptHashes: ['ab'.repeat(32)],
        verdicts,
      });
      store.appendLogEntry(entry);
      prev = entry.logRoot;
    }
    const log = readLogEntries(store);
    expect(await findBrokenLogEntry(log)).toBeNull();
    expect(() => store.appendLogEntry({ ...log[2]!, epoch: 3 })).toThrow(/does not chain/);
    const edited = log.map((e, i) => (i === 1 ? { ...e, verdictHashes: e.verdictHashes.slice(1) } : e));
    expect(await findBrokenLogEntry(edited)).toBe(1);
  });
});
