import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { exportLogFiles, nodeSha256Hex, SqliteOracleStore } from '../src/adapters/node.ts';
import { computeRewardEntries } from '../src/rewards/epoch-rewards.ts';
import { findBrokenLogEntry } from '../src/rewards/epoch-log.ts';
import { EpochClock } from '../src/rewards/epochs.ts';
import type { SignedRewardManifest } from '../src/rewards/manifest.ts';
import { RewardStage } from '../src/stages/reward-stage.ts';
import { GENESIS_LOG_ROOT } from '../src/store/memory-store.ts';
import type { EpochReader, OracleStore } from '../src/store/oracle-store.ts';
import { logHeaderOf, type LogEntry, type Verdict, type WorkRecord } from '../src/store/records.ts';
import { readLogEntry } from './fixtures/log-entries.ts';
import { referenceClose, referenceMerkleRoot } from './fixtures/reference-close.ts';
import { keys } from './fixtures/reports.ts';

/**
 * At 1 700 answers a second an epoch holds ~6 M work records. The close used to read them all into one
 * array (GBs of heap) and store every receipt hash in one row; now it streams. Here: 200 k records on
 * SQLite, closed without one whole-epoch read, with the results the whole-epoch computation gives.
 */
const EPOCH_MS = 3_600_000;
const EPOCH = 490_000;
const WORK = 200_000;
const NODES = 50;
const MODELS = ['mnist', 'resnet', 'tiny'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-epoch-scale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rewards = {
  clock: new EpochClock(EPOCH_MS),
  poolBaseUnits: 1_000_000_000n,
  shares: { inferenceBps: 6000, coverageBps: 3000, availabilityBps: 1000 },
  modelCostUnits: { resnet: 5 },
  requestFeeBaseUnits: 1000n,
  samplingSeedFor: async (epoch: number) => `AAAAAAAAAAAAAAAAAAAA${String(epoch % 100).padStart(2, '0')}`,
};

function fill(store: OracleStore, epoch: number, count: number): void {
  const startMs = epoch * EPOCH_MS;
  for (let i = 0; i < count; i += 20_000) {
    const batch: WorkRecord[] = [];
    for (let j = i; j < Math.min(count, i + 20_000); j++) {
      const sampled = j % 40 === 0;
      batch.push({
        receiptHash: createHash('sha256').update(`${epoch}/${j}`).digest('hex'),
        nodeId: `node-${j % NODES}`,
        modelName: MODELS[j % MODELS.length]!,
        modelVersion: '1',
        atMs: startMs + Math.floor((j / count) * EPOCH_MS),
        sampled,
        status: sampled ? (j % 400 === 0 ? 'inconclusive' : 'pass') : 'unchecked',
        serviceTimeMs: 3,
      });
    }
    store.saveWork(batch);
  }
  const verdicts: Verdict[] = Array.from({ length: NODES }, (_, n) => ({
    id: `avail-${epoch}-${n}`,
    nodeId: `node-${n}`,
    kind: 'availability',
    status: n % 5 ? 'up' : 'down',
    atMs: startMs + n,
  }));
  verdicts.push({
    id: `fraud-${epoch}`,
    nodeId: 'node-7',
    kind: 'spot-check',
    status: 'fraud',
    atMs: startMs + 99,
  });
  store.saveVerdicts(verdicts);
}

/** The store, with every call to the whole-epoch reads and the readers' slices recorded. */
function watched(store: OracleStore) {
  const calls = { listWork: 0, listVerdicts: 0, listLogHashes: 0, readEpoch: 0, largestSlice: 0 };
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      if (key === 'readEpoch')
        return (range: { sinceMs: number; untilMs: number }): EpochReader => {
          calls.readEpoch++;
          const reader = target.readEpoch(range);
          return {
            rewardedWork: (slice) => {
              const counts = reader.rewardedWork(slice);
              calls.largestSlice = Math.max(calls.largestSlice, counts.length);
              return counts;
            },
            receiptHashes: () => reader.receiptHashes(),
            verdicts: () => reader.verdicts(),
            close: () => reader.close(),
          };
        };
      if (key in calls) calls[key as keyof typeof calls]++;
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
  return { store: proxy, calls };
}

describe('epoch close at scale (SQLite)', () => {
  it(`closes ${WORK / 1000} k work records without reading the epoch whole, as the whole-epoch computation does`, async () => {
    const [oracle] = (await keys(1)) as [NodeKeyPair];
    const raw = new SqliteOracleStore({ path: path.join(tmp, 'scale.sqlite') });
    fill(raw, EPOCH, WORK);
    const { store, calls } = watched(raw);
    const stage = new RewardStage({
      store,
      oracle,
      ...rewards,
      firstEpoch: EPOCH,
      settleMs: 0,
      sha256: nodeSha256Hex,
    });
    // A positive marker that the event loop ran while the epoch closed (the close pauses between slices).
    let loopTurns = 0;
    let ticking = true;
    const tick = () => {
      loopTurns++;
      if (ticking) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const closed = await stage.closeEpoch(EPOCH, GENESIS_LOG_ROOT);
    ticking = false;
    expect(calls).toMatchObject({ listWork: 0, listVerdicts: 0, listLogHashes: 0, readEpoch: 1 });
    expect(calls.largestSlice).toBeLessThanOrEqual(NODES * MODELS.length);
    expect(loopTurns).toBeGreaterThan(1);

    // The whole-epoch computation, on the same store (outside the watch).
    const range = { sinceMs: EPOCH * EPOCH_MS, untilMs: (EPOCH + 1) * EPOCH_MS };
    const work = raw.listWork(range);
    expect(work).toHaveLength(WORK);
    const expected = computeRewardEntries({ ...rewards, work, verdicts: raw.listVerdicts(range) });
    const manifest = (JSON.parse(new TextDecoder().decode(closed.bytes)) as SignedRewardManifest).manifest;
    expect(manifest.entries).toEqual(expected.entries);
    expect(manifest.unallocatedBaseUnits).toBe(expected.unallocatedBaseUnits.toString());
    expect(manifest.entries.find((e) => e.nodeId === 'node-7')).toBeUndefined();
    const header = raw.getLogHeader(EPOCH)!;
    expect(header.receiptsRoot).toBe(referenceMerkleRoot(work.map((w) => w.receiptHash).sort()));
    expect(raw.listLogHashes({ epoch: EPOCH, kind: 'receipts', fromIndex: WORK - 1, limit: 5 })).toEqual([
      work.map((w) => w.receiptHash).sort()[WORK - 1],
    ]);
    raw.close();
  }, 300_000);
});

describe('an oracle data dir from before the hash lists were rows', () => {
  it('opens, closes the next epoch on from its log, exports, and the whole chain verifies', async () => {
    const [oracle] = (await keys(1)) as [NodeKeyPair];
    const file = path.join(tmp, 'old.sqlite');
    const before = new SqliteOracleStore({ path: file });
    fill(before, EPOCH, 3_000);
    fill(before, EPOCH + 1, 3_000);
    const old = await referenceClose({
      store: before,
      oracle,
      ...rewards,
      epoch: EPOCH,
      prevLogRoot: GENESIS_LOG_ROOT,
    });
    before.close();
    // As the store kept it until now: the whole entry in `log`, its header apart.
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE log (epoch INTEGER PRIMARY KEY, json TEXT NOT NULL) STRICT');
    db.prepare('INSERT INTO log (epoch, json) VALUES (?, ?)').run(EPOCH, JSON.stringify(old.entry));
    db.prepare('INSERT INTO log_headers (epoch, json) VALUES (?, ?)').run(
      EPOCH,
      JSON.stringify(logHeaderOf(old.entry)),
    );
    db.close();

    const store = new SqliteOracleStore({ path: file });
    const stage = new RewardStage({
      store,
      oracle,
      ...rewards,
      firstEpoch: 0,
      settleMs: 0,
      sha256: nodeSha256Hex,
    });
    expect(await stage.tick((EPOCH + 2) * EPOCH_MS)).toBe(1);
    expect(store.getLogHeader(EPOCH + 1)!.prevLogRoot).toBe(old.entry.logRoot);
    const dir = path.join(tmp, 'old-export');
    await exportLogFiles({ store, dir });
    const exported = [EPOCH, EPOCH + 1].map(
      (epoch) => JSON.parse(readFileSync(path.join(dir, `epoch-00${epoch}.log.json`), 'utf8')) as LogEntry,
    );
    expect(exported[0]).toEqual(old.entry);
    expect(exported[1]).toEqual(readLogEntry(store, EPOCH + 1));
    expect(exported[1]!.receiptHashes).toHaveLength(3_000);
    expect(await findBrokenLogEntry(exported)).toBeNull();
    store.close();
  }, 120_000);
});
