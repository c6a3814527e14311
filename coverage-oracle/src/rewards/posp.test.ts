import { describe, expect, it } from 'vitest';
import { parseOracleConfig } from '../config.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import { EpochClock } from './epochs.ts';
import { computePosp } from './posp.ts';

describe('PoSP condition', () => {
  it('holds for the default configuration: 0.025 × 50 000 000 = 1 250 000 ≥ 1000 base units per request', () => {
    const config = parseOracleConfig({});
    const store = new MemoryOracleStore();
    const clock = new EpochClock(config.epochMs);
    const report = computePosp({ config, store, clock, nowMs: 10 * config.epochMs + 5 });
    expect(report).toMatchObject({
      epoch: 10,
      samplingRate: 0.025,
      minBondBaseUnits: '100000000',
      minSlashBaseUnits: '50000000',
      breakEvenGainBaseUnits: '1250000',
      requestFeeBaseUnits: '1000',
      inferencePoolBaseUnits: '600000000',
      rewardPerRequestBaseUnits: null,
      holds: true,
      verification: { inferenceMs: 0, share: null },
    });
    expect(report.condition).toMatch(/cheating does not pay/);
  });

  it('fails when sampling is too rare for the slash: raise the sampling rate or the bond', () => {
    const config = parseOracleConfig({ samplingRate: 0.00001, minBondBaseUnits: 1000 });
    const report = computePosp({
      config,
      store: new MemoryOracleStore(),
      clock: new EpochClock(config.epochMs),
      nowMs: 0,
    });
    expect(report).toMatchObject({ breakEvenGainBaseUnits: '0', holds: false });
    expect(report.condition).toMatch(/may pay/);
  });

  it('counts the epoch’s verification compute against its inference compute', () => {
    const config = parseOracleConfig({});
    const store = new MemoryOracleStore();
    store.saveWork([
      {
        receiptHash: 'a',
        nodeId: 'n',
        modelName: 'm',
        modelVersion: '1',
        atMs: 1,
        sampled: false,
        serviceTimeMs: 60,
      },
      {
        receiptHash: 'b',
        nodeId: 'n',
        modelName: 'm',
        modelVersion: '1',
        atMs: 2,
        sampled: true,
        serviceTimeMs: 40,
        checkerMs: 8,
        refereeMs: 2,
      },
    ]);
    const { verification } = computePosp({ config, store, clock: new EpochClock(config.epochMs), nowMs: 3 });
    expect(verification).toEqual({ inferenceMs: 100, checkerMs: 8, refereeMs: 2, share: 0.1 });
  });
});
