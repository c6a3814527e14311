import { describe, expect, it } from 'vitest';
import type { StoredReport } from '../store/records.ts';
import { HandedReports } from './handed-reports.ts';

const reports = (from: number, to: number): StoredReport[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    type: 'receipt',
    nodeId: 'gw',
    receivedAtMs: 1,
    body: {},
    signature: 's',
  }));
const seqs = (r: StoredReport[] | undefined) => r?.map((x) => x.seq);

describe('HandedReports', () => {
  it('answers only a gapless run right after the cursor, up to the limit', () => {
    const handed = new HandedReports();
    handed.offer(reports(1, 3));
    handed.offer(reports(4, 6));
    expect(seqs(handed.take(0, 4))).toEqual([1, 2, 3, 4]);
    // Not committed by the stage yet (cursor still 0): the same run again.
    expect(seqs(handed.take(0, 2))).toEqual([1, 2]);
    expect(seqs(handed.take(4, 10))).toEqual([5, 6]);
    expect(handed.take(6, 10)).toBeUndefined();
    expect(handed.size).toBe(0);
    expect(handed.stats).toEqual({ taken: 8, storeReads: 1 });
  });

  it('sends the stage to the store across a gap, and takes from memory again once its cursor passes it', () => {
    const handed = new HandedReports();
    handed.offer(reports(1, 2));
    handed.offer(reports(5, 6));
    expect(seqs(handed.take(0, 10))).toEqual([1, 2]);
    expect(handed.take(2, 10)).toBeUndefined();
    expect(seqs(handed.take(4, 10))).toEqual([5, 6]);
    // After a restart the cursor may be ahead of memory's first: what it judged is dropped.
    expect(seqs(handed.take(5, 10))).toEqual([6]);
  });

  it('keeps no commit past its bound: those reports are read from the store', () => {
    const handed = new HandedReports({ maxReports: 5 });
    handed.offer(reports(1, 4));
    handed.offer(reports(5, 7));
    expect(handed.size).toBe(4);
    expect(seqs(handed.take(0, 10))).toEqual([1, 2, 3, 4]);
    expect(handed.take(4, 10)).toBeUndefined();
    handed.offer(reports(8, 9));
    expect(handed.take(4, 10)).toBeUndefined();
    expect(seqs(handed.take(7, 10))).toEqual([8, 9]);
  });
});
