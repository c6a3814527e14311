import { describe, expect, it } from 'vitest';
import { computePosp } from '../src/rewards/posp.ts';
import { EpochClock } from '../src/rewards/epochs.ts';
import { parseOracleConfig } from '../src/config.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { WorkRecord } from '../src/store/records.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys } from './fixtures/reports.ts';

/**
 * `GET /v1/oracle/posp` is public. It used to read every work record of the current epoch (six million
 * at 1 700 answers a second) on each request, so anyone could keep the oracle's one thread busy and
 * stall ingest. Now it reads running totals, at most once a second.
 */
const EPOCH_MS = 3_600_000;
const NOW = 500 * EPOCH_MS + 1_800_000;

/** A store that counts how many work records its callers read. */
function counting(store: OracleStore) {
  const read = { workRecords: 0 };
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === 'listWork')
        return (range: { sinceMs: number; untilMs: number }) => {
          const work = target.listWork(range);
          read.workRecords += work.length;
          return work;
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, read };
}

describe('PoSP at scale (attack: a public GET that reads a whole epoch)', () => {
  it('reads no work record, and says what a scan of the epoch says', async () => {
    const [oracleKeys] = await keys(1);
    const { store, read } = counting(new MemoryOracleStore());
    const work: WorkRecord[] = Array.from({ length: 50_000 }, (_, i) => ({
      receiptHash: `h${i}`,
      nodeId: `n${i % 7}`,
      modelName: 'm',
      modelVersion: '1',
      atMs: 500 * EPOCH_MS + (i % 1_800_000),
      sampled: i % 40 === 0,
      ...(i % 40 === 0 ? { status: 'pass' as const, checkerMs: 2, refereeMs: 1 } : {}),
      serviceTimeMs: 0.5,
    }));
    store.saveWork(work);
    const { oracle } = makeOracle({
      oracleKeys: oracleKeys!,
      nowMs: NOW,
      store,
      config: { epochMs: EPOCH_MS },
    });

    for (let i = 0; i < 100; i++) oracle.posp(NOW + i);
    expect(read.workRecords).toBe(0);

    // The old computation (a scan of the epoch's work) for comparison.
    const config = parseOracleConfig({ epochMs: EPOCH_MS });
    const viaScan = { inferenceMs: 0, checkerMs: 0, refereeMs: 0 };
    for (const w of store.listWork({ sinceMs: 500 * EPOCH_MS, untilMs: 501 * EPOCH_MS })) {
      viaScan.inferenceMs += w.serviceTimeMs ?? 0;
      viaScan.checkerMs += w.checkerMs ?? 0;
      viaScan.refereeMs += w.refereeMs ?? 0;
    }
    const report = computePosp({ config, store, clock: new EpochClock(EPOCH_MS), nowMs: NOW });
    expect(report.verification.inferenceMs).toBeCloseTo(viaScan.inferenceMs, 3);
    expect(report.verification.checkerMs).toBeCloseTo(viaScan.checkerMs, 3);
    expect(report.verification.refereeMs).toBeCloseTo(viaScan.refereeMs, 3);
    expect(viaScan.inferenceMs).toBe(25_000);
  });

  it('answers from one computation per second however often it is asked', async () => {
    const [oracleKeys] = await keys(1);
    const { store } = counting(new MemoryOracleStore());
    let totalsRead = 0;
    const spied = new Proxy(store, {
      get(target, key) {
        if (key === 'workTotals')
          return (range: { sinceMs: number; untilMs: number }) => (totalsRead++, target.workTotals(range));
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { oracle } = makeOracle({ oracleKeys: oracleKeys!, nowMs: NOW, store: spied });
    for (let i = 0; i < 1000; i++) oracle.posp(NOW + i); // 1000 requests within one second
    expect(totalsRead).toBe(1);
    oracle.posp(NOW + 1000);
    expect(totalsRead).toBe(2);
  });
});
