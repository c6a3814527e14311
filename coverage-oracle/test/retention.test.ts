import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { RetentionStage, RETENTION_BATCH_ROWS } from '../src/stages/retention-stage.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { StoredReport, WorkRecord } from '../src/store/records.ts';
import { queryFile } from './fixtures/sqlite-file.ts';

/** Retention: old reports and work go; nothing the pipeline still reads does. */
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-retention-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const report = (i: number, padding = ''): Omit<StoredReport, 'seq'> => ({
  type: 'receipt',
  nodeId: 'gw',
  receivedAtMs: T0 + i * 1000,
  body: { type: 'receipt', nodeId: 'gw', nonce: `n${i}`, issuedAtMs: T0 + i * 1000, padding },
  signature: 's',
});
const work = (i: number): WorkRecord => ({
  receiptHash: `h${i}`,
  nodeId: 'a',
  modelName: 'm',
  modelVersion: '1',
  atMs: T0 + i * 1000,
  sampled: false,
  serviceTimeMs: 1,
});
const seqs = (store: OracleStore, afterSeq = 0) =>
  store.listReports({ afterSeq, limit: 100 }).map((r) => r.seq);

const stores: Array<[string, () => OracleStore]> = [
  ['memory', () => new MemoryOracleStore()],
  ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, `s-${Math.random()}.db`) })],
];

describe('retention', () => {
  it.each(stores)(
    '%s: deletes only judged reports older than the cutoff, oldest first, a batch at a time',
    (_n, open) => {
      const store = open();
      store.appendReports(Array.from({ length: 10 }, (_, i) => report(i))); // seq 1..10 at T0 + 0..9 s
      // Judged through seq 6; received before T0 + 7.5 s: seq 1..8 are old enough, only 1..6 judged.
      expect(
        store.prune({ reports: { beforeMs: T0 + 7_500, maxSeq: 6 }, work: { beforeMs: 0 }, limit: 4 }),
      ).toEqual({
        reports: 4,
        work: 0,
      });
      expect(seqs(store)).toEqual([5, 6, 7, 8, 9, 10]);
      expect(
        store.prune({ reports: { beforeMs: T0 + 7_500, maxSeq: 6 }, work: { beforeMs: 0 }, limit: 4 })
          .reports,
      ).toBe(2);
      expect(seqs(store)).toEqual([7, 8, 9, 10]);
      expect(seqs(store, 8)).toEqual([9, 10]);
      // A PoC round still open from seq 9 keeps its beacon and everything after it.
      store.openRound({ roundKey: 'r', beaconSeq: 9, closesAtMs: T0 + HOUR });
      expect(
        store.prune({ reports: { beforeMs: T0 + HOUR, maxSeq: 10 }, work: { beforeMs: 0 }, limit: 100 })
          .reports,
      ).toBe(2);
      expect(seqs(store)).toEqual([9, 10]);
      // Sequence numbers go on after deletions.
      expect(store.appendReports([report(10)])[0]!.seq).toBe(11);
      expect(seqs(store, 9)).toEqual([10, 11]);
    },
  );

  it.each(stores)('%s: deletes work before the cutoff and its totals with it', (_n, open) => {
    const store = open();
    store.saveWork(Array.from({ length: 10 }, (_, i) => work(i)));
    expect(
      store.prune({ reports: { beforeMs: 0, maxSeq: 0 }, work: { beforeMs: T0 + 4_500 }, limit: 100 }).work,
    ).toBe(5);
    expect(store.listWork({ sinceMs: 0, untilMs: T0 + HOUR }).map((w) => w.receiptHash)).toEqual([
      'h5',
      'h6',
      'h7',
      'h8',
      'h9',
    ]);
    expect(store.workTotals({ sinceMs: T0 + 5_000, untilMs: T0 + HOUR }).requests).toBe(5);
    expect(store.workTotals({ sinceMs: 0, untilMs: T0 + 4_000 }).requests).toBe(0);
  });

  it('keeps the work of every epoch not closed, and of the last closed one, whatever its age', async () => {
    const store = new MemoryOracleStore();
    store.saveWork(Array.from({ length: 10 }, (_, i) => work(i)));
    const stage = new RetentionStage({
      store,
      reportRetentionMs: HOUR,
      workRetentionMs: 0,
      judgedThroughSeq: () => 0,
    });
    await stage.tick(T0 + 100 * HOUR);
    expect(stage.stats.work).toBe(0);
    expect(store.listWork({ sinceMs: 0, untilMs: T0 + HOUR })).toHaveLength(10);
  });

  it('SQLite: at a steady rate the file stops growing (deleted pages are reused)', async () => {
    const file = path.join(tmp, 'steady.db');
    const store = new SqliteOracleStore({ path: file });
    let cursor = 0;
    const stage = new RetentionStage({
      store,
      reportRetentionMs: HOUR,
      workRetentionMs: HOUR,
      judgedThroughSeq: () => cursor,
    });
    const pageCounts: number[] = [];
    const pad = 'x'.repeat(2_400); // a forwarded receipt report's size
    for (let hour = 0; hour < 5; hour++) {
      const at = (i: number) => hour * 3_600 + i; // seconds since T0
      const stored = store.appendReports(Array.from({ length: 2_000 }, (_, i) => report(at(i), pad)));
      cursor = stored.at(-1)!.seq;
      await stage.tick(T0 + (hour + 1) * HOUR + 2_001_000); // this hour's reports are all an hour old
      pageCounts.push(Number(queryFile(file, 'PRAGMA page_count')[0]!.page_count));
    }
    expect(stage.stats.reports).toBe(5 * 2_000);
    expect(seqs(store)).toEqual([]);
    // Without retention the file would hold 10 000 reports by the end: five times the first hour's pages.
    expect(pageCounts.at(-1)!).toBeLessThanOrEqual(pageCounts[0]! * 1.1);
    expect(RETENTION_BATCH_ROWS).toBeGreaterThan(2_000);
    store.close();
  });
});
