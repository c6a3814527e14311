import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { isRewardedWork } from '../src/rewards/epoch-rewards.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { WorkRecord, WorkStatus } from '../src/store/records.ts';
import { splitRange, type WorkTotals } from '../src/store/work-totals.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-totals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const STATUSES: Array<WorkStatus | undefined> = [
  undefined,
  'unchecked',
  'pass',
  'fraud',
  'inconclusive',
  'unbound',
];

/** Deterministic work spread over ~20 s, with every status and some verification compute. */
function someWork(count: number, seed = 1): WorkRecord[] {
  let x = seed;
  const next = () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, (_, i) => {
    const status = STATUSES[i % STATUSES.length];
    return {
      receiptHash: `h${seed}-${i}`,
      nodeId: `n${i % 3}`,
      modelName: 'm',
      modelVersion: '1',
      atMs: T0 + Math.floor(next() * 20_000),
      sampled: status !== undefined && status !== 'unchecked',
      ...(status ? { status } : {}),
      serviceTimeMs: Math.round(next() * 100) / 10,
      ...(i % 4 === 0 ? { checkerMs: 1.5, refereeMs: 0.25 } : {}),
    };
  });
}

/** What the totals must equal: a scan of the work records in the range. */
function scanned(store: OracleStore, range: { sinceMs: number; untilMs: number }): WorkTotals {
  const work = store.listWork(range);
  const sum = (f: (w: WorkRecord) => number) => work.reduce((s, w) => s + f(w), 0);
  return {
    requests: work.length,
    rewardedRequests: work.filter(isRewardedWork).length,
    inferenceMs: sum((w) => w.serviceTimeMs ?? 0),
    checkerMs: sum((w) => w.checkerMs ?? 0),
    refereeMs: sum((w) => w.refereeMs ?? 0),
  };
}

const close = (a: WorkTotals, b: WorkTotals) => {
  expect(a.requests).toBe(b.requests);
  expect(a.rewardedRequests).toBe(b.rewardedRequests);
  for (const k of ['inferenceMs', 'checkerMs', 'refereeMs'] as const) expect(a[k]).toBeCloseTo(b[k], 6);
};

const RANGES = [
  { sinceMs: T0, untilMs: T0 + 20_000 },
  { sinceMs: T0 + 1_234, untilMs: T0 + 17_777 }, // partial buckets at both edges
  { sinceMs: T0 + 5_000, untilMs: T0 + 5_000 },
  { sinceMs: T0 + 5_100, untilMs: T0 + 5_900 }, // inside one bucket
  { sinceMs: 0, untilMs: T0 + 60_000 },
];

describe('work totals', () => {
  it('splits a range into whole seconds and the partial edges', () => {
    expect(splitRange({ sinceMs: 1_500, untilMs: 4_200 })).toEqual({
      whole: { firstBucket: 2, endBucket: 4 },
      edges: [
        { sinceMs: 1_500, untilMs: 2_000 },
        { sinceMs: 4_000, untilMs: 4_200 },
      ],
    });
    expect(splitRange({ sinceMs: 2_000, untilMs: 4_000 })).toEqual({
      whole: { firstBucket: 2, endBucket: 4 },
      edges: [],
    });
    expect(splitRange({ sinceMs: 2_100, untilMs: 2_900 }).edges).toEqual([
      { sinceMs: 2_100, untilMs: 2_900 },
    ]);
  });

  it.each([
    ['memory', () => new MemoryOracleStore()],
    ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, `eq-${Math.random()}.db`) })],
  ])('%s: equal a scan of the work for any range, and count work saved twice once', (_name, open) => {
    const store = open();
    const work = someWork(600);
    store.saveWork(work.slice(0, 300));
    store.commitJudged({ work: work.slice(200), verdicts: [], coverage: [] }); // 100 already kept
    store.saveWork(work.slice(0, 50).map((w) => ({ ...w, serviceTimeMs: 999 }))); // the same hashes: ignored
    expect(store.listWork({ sinceMs: 0, untilMs: T0 + 60_000 })).toHaveLength(600);
    for (const range of RANGES) close(store.workTotals(range), scanned(store, range));
  });

  it('SQLite: a store from before the totals gets them from its work when it opens', () => {
    const file = path.join(tmp, 'old.db');
    const store = new SqliteOracleStore({ path: file });
    store.saveWork(someWork(400, 7));
    const expected = RANGES.map((r) => scanned(store, r));
    store.close();
    const db = new DatabaseSync(file);
    db.exec('DROP TABLE work_totals');
    db.close();
    const reopened = new SqliteOracleStore({ path: file });
    RANGES.forEach((r, i) => close(reopened.workTotals(r), expected[i]!));
    reopened.close();
  });
});
