import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { exportLogFiles, nodeSha256Hex, SqliteOracleStore } from '../src/adapters/node.ts';
import { findBrokenLogEntry } from '../src/rewards/epoch-log.ts';
import { EpochClock } from '../src/rewards/epochs.ts';
import { merkleRoot } from '../src/rewards/merkle.ts';
import { MerkleRootStream } from '../src/rewards/merkle-stream.ts';
import { RewardStage } from '../src/stages/reward-stage.ts';
import { GENESIS_LOG_ROOT, MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import { logHeaderOf, type LogEntry, type Verdict, type WorkRecord } from '../src/store/records.ts';
import { readLogEntry } from './fixtures/log-entries.ts';
import { referenceClose, referenceMerkleRoot } from './fixtures/reference-close.ts';
import { keys } from './fixtures/reports.ts';

const EPOCH_MS = 3_600_000;
const EPOCH = 480_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-epoch-close-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const sqlite = () => new SqliteOracleStore({ path: path.join(tmp, `s${files++}.db`) });
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** A deterministic pseudo-random source (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** An epoch's work of every status on three models and verdicts of every kind that rewards read, plus work just outside it. */
function epochData(options: { epoch: number; seed: number; work: number }): {
  work: WorkRecord[];
  verdicts: Verdict[];
} {
  const rnd = random(options.seed);
  const startMs = options.epoch * EPOCH_MS;
  const statuses = [
    'unchecked',
    'unchecked',
    'unchecked',
    'pass',
    'fraud',
    'inconclusive',
    'unbound',
    undefined,
  ] as const;
  const node = (i: number) => `node-${i % 13}`;
  const work: WorkRecord[] = Array.from({ length: options.work }, (_, i) => {
    const status = statuses[Math.floor(rnd() * statuses.length)];
    // A few at the edges and outside: [startMs − 1, endMs] must keep exactly the epoch's.
    const atMs = startMs - 1 + Math.floor(rnd() * (EPOCH_MS + 2));
    return {
      receiptHash: hex(`${options.seed}/${i}`),
      nodeId: node(Math.floor(rnd() * 13)),
      modelName: ['mnist', 'resnet', 'odd'][i % 3]!,
      modelVersion: '1',
      atMs,
      sampled: status !== 'unchecked' && status !== undefined,
      ...(status ? { status } : {}),
      serviceTimeMs: 2,
    };
  });
  const verdicts: Verdict[] = [];
  for (let n = 0; n < 13; n++) {
    for (let p = 0; p < 6; p++)
      verdicts.push({
        id: `a${n}-${p}`,
        nodeId: node(n),
        kind: 'availability',
        status: rnd() < 0.8 ? 'up' : 'down',
        atMs: startMs + p * 1000 + n,
      });
    verdicts.push({
      id: `w${n}`,
      nodeId: node(n),
      kind: 'poc-witness',
      status: 'valid',
      atMs: startMs + 5000 + n,
      rewardUnit: 0.3 + n / 100,
      hexScale: 0.5,
    });
    verdicts.push({
      id: `b${n}`,
      nodeId: node(n),
      kind: 'poc-beacon',
      status: n % 4 ? 'valid' : 'invalid',
      atMs: startMs + 6000 + n,
      rewardUnit: 1,
      hexScale: 0.25,
    });
  }
  verdicts.push({
    id: 'fraud',
    nodeId: node(5),
    kind: 'spot-check',
    status: 'fraud',
    atMs: startMs + 7000,
    details: { receiptHash: work[0]!.receiptHash },
  });
  verdicts.push({ id: 'pass', nodeId: node(6), kind: 'spot-check', status: 'pass', atMs: startMs + 7001 });
  verdicts.push({
    id: 'late',
    nodeId: node(7),
    kind: 'availability',
    status: 'down',
    atMs: startMs + EPOCH_MS,
  });
  return { work, verdicts };
}

let oracleKeys: NodeKeyPair;
const rewardOptions = {
  clock: new EpochClock(EPOCH_MS),
  poolBaseUnits: 1_000_000_007n,
  shares: { inferenceBps: 6000, coverageBps: 3000, availabilityBps: 1000 },
  modelCostUnits: { resnet: 7, odd: 0.5 },
  requestFeeBaseUnits: 20_000n,
  stakeAt: (nodeId: string) => 100n + BigInt(nodeId.length * 3 + Number(nodeId.slice(5)) * 11),
  samplingSeedFor: async (epoch: number) => `AAAAAAAAAAAAAAAAAAAA${String(epoch % 100).padStart(2, '0')}`,
};
const stageFor = (store: OracleStore, sha256?: typeof nodeSha256Hex) =>
  new RewardStage({
    store,
    oracle: oracleKeys,
    ...rewardOptions,
    firstEpoch: EPOCH,
    settleMs: 0,
    ...(sha256 ? { sha256 } : {}),
  });

describe('MerkleRootStream', () => {
  it('gives merkleRoot’s root for every leaf count, with node:crypto’s hash and with WebCrypto’s', async () => {
    for (const n of [...Array.from({ length: 34 }, (_, i) => i), 63, 64, 65, 127, 129, 300]) {
      const leaves = Array.from({ length: n }, (_, i) => hex(`leaf ${i}`));
      const expected = await merkleRoot(leaves.map((l) => Uint8Array.from(Buffer.from(l, 'hex'))));
      for (const sha256 of [nodeSha256Hex, undefined]) {
        const stream = new MerkleRootStream(sha256 ? { sha256 } : {});
        await stream.push(leaves.slice(0, n >> 1));
        await stream.push(leaves.slice(n >> 1));
        expect(await stream.root(), `${n} leaves`).toBe(expected);
      }
      if (n === 300) expect(referenceMerkleRoot(leaves)).toBe(expected);
    }
  });

  it('refuses a leaf that is not 64 hex digits, naming it', async () => {
    await expect(new MerkleRootStream().push(['h1'])).rejects.toThrow('"h1" is not 64 hex digits');
  });
});

describe.each([
  ['memory, WebCrypto', () => new MemoryOracleStore(), undefined],
  ['SQLite, node:crypto', sqlite, nodeSha256Hex],
  ['SQLite, WebCrypto', sqlite, undefined],
] as const)('streaming epoch close (%s)', (_name, open, sha256) => {
  it('gives the bytes, roots and hash lists the materialised close gave, epoch after epoch', async () => {
    [oracleKeys] = (await keys(1)) as [NodeKeyPair];
    const store = open();
    let prevLogRoot = GENESIS_LOG_ROOT;
    for (const [i, epoch] of [EPOCH, EPOCH + 1].entries()) {
      const { work, verdicts } = epochData({ epoch, seed: 11 + i, work: 2_000 });
      store.saveWork(work);
      store.saveVerdicts(verdicts);
      const reference = await referenceClose({
        store,
        oracle: oracleKeys,
        ...rewardOptions,
        epoch,
        prevLogRoot,
      });
      const closed = await stageFor(store, sha256).closeEpoch(epoch, prevLogRoot);
      expect(Buffer.from(closed.bytes).equals(Buffer.from(reference.bytes))).toBe(true);
      expect(store.getLogHeader(epoch)).toEqual(logHeaderOf(reference.entry));
      expect(readLogEntry(store, epoch)).toEqual(reference.entry);
      expect(reference.entry.receiptHashes.length).toBeGreaterThan(1_900);
      prevLogRoot = reference.entry.logRoot;
    }
  });

  it('drops what an interrupted close wrote and closes the epoch whole', async () => {
    [oracleKeys] = (await keys(1)) as [NodeKeyPair];
    const store = open();
    const { work, verdicts } = epochData({ epoch: EPOCH, seed: 3, work: 500 });
    store.saveWork(work);
    store.saveVerdicts(verdicts);
    store.appendLogHashes({ epoch: EPOCH, kind: 'receipts', fromIndex: 0, hashes: [hex('stale')] });
    expect(() =>
      store.appendLogHashes({ epoch: EPOCH, kind: 'receipts', fromIndex: 5, hashes: [hex('gap')] }),
    ).toThrow(/holds 1 hashes; a page from 5/);
    expect(() => store.commitLogHeader(logHeaderOf(entryStub(EPOCH)), { receipts: 2, verdicts: 0 })).toThrow(
      /holds 1 receipts hashes, 2 expected/,
    );
    expect(store.listLogHashes({ epoch: EPOCH, kind: 'receipts', fromIndex: 0, limit: 10 })).toEqual([]);
    const reference = await referenceClose({
      store,
      oracle: oracleKeys,
      ...rewardOptions,
      epoch: EPOCH,
      prevLogRoot: GENESIS_LOG_ROOT,
    });
    await stageFor(store, sha256).tick((EPOCH + 1) * EPOCH_MS);
    expect(readLogEntry(store, EPOCH)).toEqual(reference.entry);
    expect(() => store.discardLogHashes(EPOCH)).toThrow(/closed/);
    expect(() => store.appendLogHashes({ epoch: EPOCH, kind: 'verdicts', fromIndex: 0, hashes: [] })).toThrow(
      /closed/,
    );
  });
});

function entryStub(epoch: number): LogEntry {
  return {
    epoch,
    startMs: 0,
    endMs: 1,
    prevLogRoot: GENESIS_LOG_ROOT,
    logRoot: '1'.repeat(64),
    manifestHash: '2'.repeat(64),
    receiptsRoot: '3'.repeat(64),
    verdictsRoot: '4'.repeat(64),
    manifestJson: '{}',
    receiptHashes: [],
    verdictHashes: [],
  };
}

describe('log export, epoch by epoch', () => {
  it('writes each epoch once, streamed to the bytes of the whole entry, and the chain index re-verifies', async () => {
    [oracleKeys] = (await keys(1)) as [NodeKeyPair];
    const store = sqlite();
    const dir = path.join(tmp, `export-${files++}`);
    const stage = stageFor(store, nodeSha256Hex);
    expect(await exportLogFiles({ store, dir })).toEqual([path.join(dir, 'log.json')]);
    for (const epoch of [EPOCH, EPOCH + 1]) {
      // More hashes than one export page (8 192), so pages are joined.
      const { work, verdicts } = epochData({ epoch, seed: epoch, work: 10_000 });
      store.saveWork(work);
      store.saveVerdicts(verdicts);
    }
    await stage.tick((EPOCH + 1) * EPOCH_MS);
    const first = await exportLogFiles({ store, dir });
    expect(first.map((f) => path.basename(f))).toEqual([
      'epoch-00480000.manifest.json',
      'epoch-00480000.log.json',
      'log.json',
    ]);
    // Nothing new: nothing written.
    expect(await exportLogFiles({ store, dir })).toEqual([]);
    await stage.tick((EPOCH + 2) * EPOCH_MS);
    const second = await exportLogFiles({ store, dir });
    expect(second.map((f) => path.basename(f))).toEqual([
      'epoch-00480001.manifest.json',
      'epoch-00480001.log.json',
      'log.json',
    ]);
    const entries = [EPOCH, EPOCH + 1].map((epoch) => readLogEntry(store, epoch)!);
    for (const e of entries)
      expect(readFileSync(path.join(dir, `epoch-00${e.epoch}.log.json`), 'utf8')).toBe(
        JSON.stringify(e, null, 2) + '\n',
      );
    const exported = entries.map(
      (e) => JSON.parse(readFileSync(path.join(dir, `epoch-00${e.epoch}.log.json`), 'utf8')) as LogEntry,
    );
    expect(await findBrokenLogEntry(exported)).toBeNull();
    expect(JSON.parse(readFileSync(path.join(dir, 'log.json'), 'utf8'))).toEqual(
      entries.map((e) => ({
        epoch: e.epoch,
        prevLogRoot: e.prevLogRoot,
        logRoot: e.logRoot,
        manifestHash: e.manifestHash,
      })),
    );
    // A lost index is rebuilt from the headers; no temporary file is left behind.
    rmSync(path.join(dir, 'log.json'));
    expect(await exportLogFiles({ store, dir })).toEqual([path.join(dir, 'log.json')]);
    expect(JSON.parse(readFileSync(path.join(dir, 'log.json'), 'utf8'))).toHaveLength(2);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 60_000);
});
