import {
  buildMerkleTree,
  batchLeafHash,
  signBatch,
  signBody,
  tensorsDigest,
  type BatchReceipt,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { Ingest, MemoryDirectory, MemoryOracleStore } from '../src/index.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import { keys, MODEL, tensorsFor } from './fixtures/reports.ts';

/*
 * Ingest of batch-signed receipts and reports (v2), attacked, and its group commit: replays refused
 * from memory, across commits and across a restart; nothing half-applied when the store fails.
 */
const NOW = Date.now();
const inputs = (i: number) => tensorsFor([20 + i, 50, 600], 'readings');
const outputs = (i: number) => tensorsFor([0.1, 0.9 - i / 1000]);
let gateway: NodeKeyPair, node: NodeKeyPair, thief: NodeKeyPair;
const dirs: string[] = [];

beforeAll(async () => {
  [gateway, node, thief] = await keys(3);
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function directory() {
  const d = new MemoryDirectory();
  d.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  return d;
}
function setup(store: OracleStore = new MemoryOracleStore(), options: { maxReplayNonces?: number } = {}) {
  return { store, ingest: new Ingest({ store, directory: directory(), nowMs: () => NOW, ...options }) };
}

async function receipts(signer: NodeKeyPair, from: number, n: number): Promise<BatchReceipt[]> {
  const bodies = await Promise.all(
    Array.from({ length: n }, async (_, k) => ({
      nodeId: signer.nodeId,
      requestId: `r${from + k}`,
      ...MODEL,
      inputDigest: await tensorsDigest(inputs(from + k)),
      outputDigest: await tensorsDigest(outputs(from + k)),
      issuedAtMs: NOW,
      serviceTimeMs: 1,
    })),
  );
  return (await signBatch({ kind: 'receipt', bodies, keys: signer, nowMs: NOW })) as BatchReceipt[];
}
const reportBody = (
  receipt: BatchReceipt | object,
  i: number,
  nonce = `nonce-${i}-${Math.random()}`.padEnd(24, 'x'),
) => ({
  type: 'receipt' as const,
  nodeId: gateway.nodeId,
  nonce: nonce.replace(/[^A-Za-z0-9_-]/g, '_'),
  issuedAtMs: NOW,
  receipt,
  request: {
    kind: 'tensors' as const,
    modelName: MODEL.modelName,
    modelVersion: MODEL.modelVersion,
    inputs: inputs(i),
  },
  result: { kind: 'tensors' as const, outputs: outputs(i) },
});
/** Receipt reports for receipts `from`…, batch-signed by the gateway as its forwarder does. */
async function reports(rs: BatchReceipt[], from: number) {
  return signBatch({
    kind: 'report',
    bodies: rs.map((r, k) => reportBody(r, from + k)),
    keys: gateway,
    nowMs: NOW,
  });
}

describe('batch-signed receipts and reports at ingest', () => {
  it('accepts them, verifying each root signature once', async () => {
    const { ingest, store } = setup();
    const rs = await receipts(node, 0, 40);
    const results = await ingest.submitBatch(await reports(rs, 0), NOW);
    expect(results.every((r) => r.accepted)).toBe(true);
    expect(ingest.rootStats).toEqual({ reports: { hits: 39, misses: 1 }, receipts: { hits: 39, misses: 1 } });
    const stored = store.listReports({ afterSeq: 0, limit: 100 });
    expect(stored).toHaveLength(40);
    // Kept as evidence that verifies alone: the proof and the root travel with the body.
    expect(stored[7]).toMatchObject({ batch: { index: 7 }, signature: stored[7]!.batch!.root.signature });
  });

  it('refuses a forwarded receipt whose leaf was swapped, whose proof is for another root, or whose proof is oversized', async () => {
    const { ingest, store } = setup();
    const [a, b] = await receipts(node, 0, 2);
    const [later] = await receipts(node, 100, 2);
    const attacks = {
      PROOF_MISMATCH: { ...a!, batch: b!.batch },
      'PROOF_MISMATCH ': { ...a!, batch: { ...a!.batch, root: later!.batch.root } },
      PROOF_LENGTH: { ...a!, batch: { ...a!.batch, proof: [...a!.batch.proof, 'a'.repeat(64)] } },
    };
    for (const [fault, receipt] of Object.entries(attacks)) {
      const [report] = await signBatch({
        kind: 'report',
        bodies: [reportBody(receipt, 0)],
        keys: gateway,
        nowMs: NOW,
      });
      const result = await ingest.submit(report, NOW);
      expect(result).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
      expect((result as { message: string }).message).toContain(fault.trim());
    }
    expect(store.listReports({ afterSeq: 0, limit: 10 })).toHaveLength(0);
  });

  it('refuses a receipt root signed by another node, and node A’s cached root presented as node B’s', async () => {
    const { ingest } = setup();
    const [a] = await receipts(node, 0, 4);
    expect((await ingest.submit((await reports([a!], 0))[0], NOW)).accepted).toBe(true);
    const leaves = await Promise.all(
      (await receipts(node, 0, 4)).map((r) => batchLeafHash('receipt', r.body)),
    );
    const { root } = await buildMerkleTree(leaves);
    const posing = await signBody('receipt-root', { ...a!.batch.root.body, root }, thief.privateKey);
    const asB = {
      ...a!,
      body: { ...a!.body, nodeId: thief.nodeId },
      batch: {
        ...a!.batch,
        root: { ...a!.batch.root, body: { ...a!.batch.root.body, nodeId: thief.nodeId } },
      },
    };
    for (const [fault, receipt] of [
      ['ROOT_SIGNATURE', { ...a!, batch: { ...a!.batch, root: posing } }],
      ['PROOF_MISMATCH', asB],
    ] as const) {
      const [report] = await signBatch({
        kind: 'report',
        bodies: [reportBody(receipt, 0)],
        keys: gateway,
        nowMs: NOW,
      });
      const result = await ingest.submit(report, NOW);
      expect(result).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
      expect((result as { message: string }).message).toContain(fault);
    }
  });

  it('refuses a report batch root replayed with new reports, and a report root signed by a non-gateway', async () => {
    const { ingest } = setup();
    const rs = await receipts(node, 0, 3);
    const [first] = await reports(rs, 0);
    // The gateway's signed root, a report it never signed.
    const replayed = { ...first!, body: reportBody(rs[0]!, 0) };
    expect(await ingest.submit(replayed, NOW)).toMatchObject({
      accepted: false,
      code: 'BAD_SIGNATURE',
      message: expect.stringMatching(/PROOF_MISMATCH/),
    });
    const byThief = await signBatch({
      kind: 'report',
      bodies: [{ ...reportBody(rs[0]!, 0), nodeId: thief.nodeId }],
      keys: thief,
      nowMs: NOW,
    });
    expect(await ingest.submit(byThief[0], NOW)).toMatchObject({ accepted: false, code: 'UNKNOWN_NODE' });
  });
});

describe('group-committed ingest', () => {
  it('commits concurrent posts together and answers each once durable; replays refused across commits', async () => {
    const { ingest, store } = setup();
    const posts = await Promise.all(
      Array.from({ length: 8 }, async (_, p) => reports(await receipts(node, p * 10, 10), p * 10)),
    );
    const results = await Promise.all(posts.map((p) => ingest.submitBatch(p, NOW)));
    expect(results.flat().every((r) => r.accepted)).toBe(true);
    expect(ingest.commitStats.reports).toBe(80);
    expect(ingest.commitStats.commits).toBeLessThan(8);
    expect((await ingest.submitBatch(posts[3]!, NOW)).map((r) => r.accepted && r)).toEqual(
      Array(10).fill(false),
    );
    expect(store.listReports({ afterSeq: 0, limit: 1000 })).toHaveLength(80);
  });

  it('refuses everything and spends no nonce when the commit fails; the resend is then accepted', async () => {
    const store = new MemoryOracleStore();
    const { ingest } = setup(store);
    const post = await reports(await receipts(node, 0, 5), 0);
    const commit = store.commitIngest.bind(store);
    store.commitIngest = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    await expect(ingest.submitBatch(post, NOW)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(/disk is full/),
    });
    expect(store.listReports({ afterSeq: 0, limit: 10 })).toHaveLength(0);
    store.commitIngest = commit;
    expect((await ingest.submitBatch(post, NOW)).every((r) => r.accepted)).toBe(true);
  });

  it('rebuilds the replay check from SQLite after a restart (no close: a crash)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-ingest-'));
    dirs.push(dir);
    const file = path.join(dir, 'oracle.sqlite');
    const post = await reports(await receipts(node, 0, 6), 0);
    const first = setup(new SqliteOracleStore({ path: file }));
    expect((await first.ingest.submitBatch(post.slice(0, 4), NOW)).every((r) => r.accepted)).toBe(true);
    const again = setup(new SqliteOracleStore({ path: file }));
    const resent = await again.ingest.submitBatch(post, NOW);
    expect(resent.map((r) => (r.accepted ? 'accepted' : r.code))).toEqual([
      ...Array(4).fill('REPLAYED'),
      'accepted',
      'accepted',
    ]);
    expect(again.store.listReports({ afterSeq: 0, limit: 100 })).toHaveLength(6);
  });

  it('keeps replay memory bounded: forgotten nonces raise a persisted floor below which reports are refused', async () => {
    const store = new MemoryOracleStore();
    const { ingest } = setup(store, { maxReplayNonces: 3 });
    const rs = await receipts(node, 0, 6);
    const bodies = rs.map((r, k) => ({ ...reportBody(r, k), issuedAtMs: NOW - 60_000 + k * 1000 }));
    const signed = await signBatch({ kind: 'report', bodies, keys: gateway, nowMs: NOW });
    for (const r of signed.slice(0, 5)) expect((await ingest.submit(r, NOW)).accepted).toBe(true);
    // The two oldest were forgotten: anything issued at or before the second is refused, never re-accepted.
    expect(await ingest.submit(signed[0], NOW)).toMatchObject({
      accepted: false,
      code: 'STALE_MESSAGE',
      message: expect.stringMatching(/replay watermark/),
    });
    expect((await ingest.submit(signed[5], NOW)).accepted).toBe(true);
    // Persisted with the next commit: a restarted ingest keeps the floor.
    const restarted = setup(store, { maxReplayNonces: 3 });
    expect(await restarted.ingest.submit(signed[1], NOW)).toMatchObject({
      accepted: false,
      code: 'STALE_MESSAGE',
    });
  });
});
