import type { NodeKeyPair } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, receiptReport, type signReport } from './fixtures/reports.ts';

/**
 * Ingest hands its durable commits to the verify stage in memory; the store stays the truth. Whatever
 * memory held, the stage judges every report once, in seq order, with the same work and verdicts as
 * it would from the store, and a restart (memory lost) re-judges from the cursor on.
 */
const EPOCH_MS = 3_600_000;
const T0 = 486_000 * EPOCH_MS + 600_000;
const COUNT = 10;
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-hand-off-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let oracleKeys: NodeKeyPair, gateway: NodeKeyPair, node: NodeKeyPair;
let posts: Array<Array<Awaited<ReturnType<typeof signReport>>>>;

beforeAll(async () => {
  [oracleKeys, gateway, node] = await keys(3);
  const reports = await Promise.all(
    Array.from({ length: COUNT }, (_, i) => receiptReport({ gateway, node, i, nowMs: T0 })),
  );
  // Three posts, so three group commits: 4 + 3 + 3 reports.
  posts = [reports.slice(0, 4), reports.slice(4, 7), reports.slice(7)];
});

let files = 0;
function open(file = path.join(tmp, `oracle-${files++}.db`)) {
  const store = new SqliteOracleStore({ path: file });
  // Half the receipts sampled (no re-run wired: sampled work stays unchecked), batches of 4.
  const env = makeOracle({
    oracleKeys,
    nowMs: T0,
    store,
    config: { epochMs: EPOCH_MS, batchSize: 4, samplingRate: 0.5 },
  });
  env.directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  return { ...env, store, file };
}

async function ingestAll(oracle: ReturnType<typeof open>['oracle']) {
  for (const post of posts)
    for (const r of await oracle.ingest.submitBatch(post, T0)) expect(r).toMatchObject({ accepted: true });
}

async function verifyAll(oracle: ReturnType<typeof open>['oracle']) {
  while ((await oracle.verifyStage.tick(T0)) > 0);
}

const judged = (store: OracleStore) => ({
  cursor: store.getCursor('verify'),
  work: store.listWork({ sinceMs: 0, untilMs: T0 + 1 }),
  verdicts: store.listVerdicts({}),
});

/** The same reports judged from the store alone: appended as ingest stored them, never handed over. */
async function fromStore(stored: OracleStore) {
  const ref = open();
  ref.store.appendReports(stored.listReports({ afterSeq: 0, limit: 100 }).map(({ seq: _, ...r }) => r));
  await verifyAll(ref.oracle);
  expect(ref.oracle.verifyStage.handed.stats.taken).toBe(0);
  const out = judged(ref.store);
  ref.store.close();
  return out;
}

/** A reopened oracle (memory lost) judges what is left from SQLite alone, as the store alone would. */
async function judgesTheRestFromStore(o: ReturnType<typeof open>): Promise<void> {
  await verifyAll(o.oracle);
  expect(o.oracle.verifyStage.handed.stats.taken).toBe(0);
  const got = judged(o.store);
  expect(got.cursor).toBe(COUNT);
  expect(got).toEqual(await fromStore(o.store));
  o.store.close();
}

describe('verify stage hand-off from ingest', () => {
  it('judges what ingest committed from memory, as it would from the store', async () => {
    const { oracle, store } = open();
    await ingestAll(oracle);
    await verifyAll(oracle);
    expect(oracle.verifyStage.handed.stats.taken).toBe(COUNT);
    expect(oracle.verifyStage.handed.size).toBe(0);
    const got = judged(store);
    expect(got.cursor).toBe(COUNT);
    expect(got.work).toHaveLength(COUNT);
    expect(got.work.some((w) => w.sampled)).toBe(true);
    expect(got).toEqual(await fromStore(store));
    store.close();
  });

  it('a crash between the ingest commit and verify loses nothing: the reopened oracle judges all from SQLite', async () => {
    const first = open();
    await ingestAll(first.oracle);
    // Acknowledged (accepted above), not judged: memory goes with the process.
    first.store.close();
    const second = open(first.file);
    await judgesTheRestFromStore(second);
  });

  it('a restart in the middle re-judges from the cursor on, from SQLite, and then takes new commits from memory', async () => {
    const first = open();
    await ingestAll(first.oracle);
    expect(await first.oracle.verifyStage.tick(T0)).toBe(4);
    first.store.close();
    const second = open(first.file);
    expect(second.store.getCursor('verify')).toBe(4);
    await judgesTheRestFromStore(second);
  });

  it('a report stored by another path (a gap in memory) is read from the store, none skipped nor judged twice', async () => {
    const { oracle, store } = open();
    for (const r of await oracle.ingest.submitBatch(posts[0]!, T0)) expect(r.accepted).toBe(true);
    // Seq 5 never passes through ingest's hand-off (a report appended directly, as a resend of seq 1).
    const { seq: _, ...first } = store.listReports({ afterSeq: 0, limit: 1 })[0]!;
    store.appendReports([first]);
    for (const post of posts.slice(1))
      for (const r of await oracle.ingest.submitBatch(post, T0)) expect(r).toMatchObject({ accepted: true });
    await verifyAll(oracle);
    const { stats } = oracle.verifyStage.handed;
    // 1–4 and 9–11 from memory; 5–8 from the store (memory's next was 6, not the cursor's next 5).
    expect(stats.taken).toBe(7);
    expect(stats.storeReads).toBeGreaterThan(0);
    const got = judged(store);
    expect(got.cursor).toBe(COUNT + 1);
    expect(new Set(got.work.map((w) => w.receiptHash)).size).toBe(COUNT);
    expect(got).toEqual(await fromStore(store));
    store.close();
  });
});
