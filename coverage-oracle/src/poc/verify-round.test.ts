import { describe, expect, it } from 'vitest';
import {
  BEACON_AT_MS,
  BEACONER_CELL,
  cellAtDistanceM,
  cellAtParentSteps,
  ENTROPY_START_MS,
  FREQUENCY_HZ,
  hotspot,
  roundWith,
  witness,
} from '../../test/fixtures/poc.ts';
import { cellCentreDistanceM, parentCellDistance } from './radio.ts';
import { verifyPocRound } from './verify-round.ts';
import type { Hotspot, PocRoundInput } from './types.ts';

/** One witness `w` at `cell`, everything else valid; returns the witness's verdict. */
function judgeOne(cell: string, witnessExtra: Parameters<typeof witness>[1] = {}, roundExtra: Partial<PocRoundInput> = {}) {
  const round = roundWith(0);
  const hotspots = new Map(round.hotspots);
  hotspots.set('w', hotspot('w', cell));
  const result = verifyPocRound({ ...round, hotspots, witnesses: [witness('w', witnessExtra)], ...roundExtra });
  return result.witnesses[0]!;
}

const FAR_CELL = cellAtParentSteps(400);

describe('verifyPocRound: beacon checks in order', () => {
  it('accepts a good beacon', () => {
    expect(verifyPocRound(roundWith(3)).beacon).toEqual({ status: 'valid' });
  });

  it.each([
    ['GATEWAY_NOT_FOUND', { hotspots: new Map<string, Hotspot>() }],
    ['NOT_ASSERTED', { hotspots: new Map([['beaconer', hotspot('beaconer', null)]]) }],
    ['DENIED', { denylist: new Set(['beaconer']) }],
    ['ENTROPY_EXPIRED', { entropyStartMs: BEACON_AT_MS - 180_001 }],
    ['ENTROPY_EXPIRED', { entropyStartMs: BEACON_AT_MS + 1 }],
    ['INVALID_CAPABILITY', { hotspots: new Map([['beaconer', hotspot('beaconer', BEACONER_CELL, { capability: 'data-only' })]]) }],
    ['IRREGULAR_INTERVAL', { lastBeaconAtMs: BEACON_AT_MS - 1000 }],
  ] as const)('%s', (reason, overrides) => {
    const result = verifyPocRound(roundWith(2, overrides as Partial<PocRoundInput>));
    expect(result.beacon).toEqual({ status: 'invalid', reason });
    expect(result.beaconRewardUnit).toBe(0);
    // An invalid beacon invalidates its witnesses with the beacon's reason.
    expect(result.witnesses.every((w) => w.status === 'invalid' && w.reason === reason && w.side === 'beaconer')).toBe(true);
  });

  it('lets a beacon in the next 6 h bucket through, and checks denial before entropy', () => {
    const sixHoursMs = 6 * 3600_000;
    const lastBucketEnd = Math.floor(BEACON_AT_MS / sixHoursMs) * sixHoursMs - 1;
    expect(verifyPocRound(roundWith(1, { lastBeaconAtMs: lastBucketEnd })).beacon.status).toBe('valid');
    const both = verifyPocRound(roundWith(1, { denylist: new Set(['beaconer']), entropyStartMs: 0 }));
    expect(both.beacon.reason).toBe('DENIED');
  });
});

describe('verifyPocRound: witness checks at their boundaries', () => {
  it('accepts a plain valid witness', () => {
    expect(judgeOne(FAR_CELL)).toMatchObject({ status: 'valid', selected: true, rewardUnit: 1 });
  });

  it('frequency: 100 kHz off passes, 110 kHz off fails INVALID_FREQUENCY', () => {
    expect(judgeOne(FAR_CELL, { frequencyHz: FREQUENCY_HZ + 100_000 }).status).toBe('valid');
    expect(judgeOne(FAR_CELL, { frequencyHz: FREQUENCY_HZ - 100_000 }).status).toBe('valid');
    expect(judgeOne(FAR_CELL, { frequencyHz: FREQUENCY_HZ + 110_000 })).toMatchObject({ status: 'invalid', reason: 'INVALID_FREQUENCY' });
  });

  it('lag: 4.000 s after the beacon passes, 4.001 s fails TOO_LATE', () => {
    expect(judgeOne(FAR_CELL, { receivedAtMs: BEACON_AT_MS + 4000 }).status).toBe('valid');
    expect(judgeOne(FAR_CELL, { receivedAtMs: BEACON_AT_MS + 4001 })).toMatchObject({ reason: 'TOO_LATE' });
  });

  it('lag: when witnesses beat the beacon, each must follow the first witness within 1.5 s', () => {
    const round = roundWith(3);
    const early = BEACON_AT_MS - 2000;
    const witnesses = [
      { ...round.witnesses[0]!, receivedAtMs: early },
      { ...round.witnesses[1]!, receivedAtMs: early + 1500 },
      { ...round.witnesses[2]!, receivedAtMs: early + 1501 },
    ];
    const verdicts = verifyPocRound({ ...round, witnesses }).witnesses;
    expect(verdicts.map((v) => v.reason ?? v.status)).toEqual(['valid', 'valid', 'TOO_LATE']);
  });

  it('distance: 100.999 km between cell centres passes, 101 km fails MAX_DISTANCE_EXCEEDED', () => {
    const justInside = cellAtDistanceM(100_999);
    const justOutside = cellAtDistanceM(101_000);
    expect(cellCentreDistanceM(BEACONER_CELL, justInside)).toBe(100_999);
    expect(cellCentreDistanceM(BEACONER_CELL, justOutside)).toBe(101_000);
    // Free-space loss at 101 km bounds the signal near −104 dBm; −120 dBm is plausible there.
    expect(judgeOne(justInside).status).toBe('valid');
    expect(judgeOne(justOutside)).toMatchObject({ status: 'invalid', reason: 'MAX_DISTANCE_EXCEEDED' });
  });

  it('a witness 7 res-11 cells away fails BELOW_MIN_DISTANCE though it is ~350 m away; 8 cells pass', () => {
    const seven = cellAtParentSteps(7);
    expect(parentCellDistance(BEACONER_CELL, seven)).toBe(7);
    expect(cellCentreDistanceM(BEACONER_CELL, seven)).toBeGreaterThan(300);
    expect(judgeOne(seven)).toMatchObject({ status: 'invalid', reason: 'BELOW_MIN_DISTANCE' });
    expect(judgeOne(cellAtParentSteps(8)).status).toBe('valid');
  });

  it('BAD_RSSI: louder than free-space path loss allows', () => {
    // 20 km at 868 MHz: FSPL ≈ 117.2 dB, so 27 dBm + 2 × 1.2 dBi arrives at ≈ −87.8 dBm at best.
    expect(judgeOne(FAR_CELL, { signalDbm: -90 }).status).toBe('valid');
    expect(judgeOne(FAR_CELL, { signalDbm: -80 })).toMatchObject({ reason: 'BAD_RSSI' });
  });

  it.each([
    ['GATEWAY_NOT_FOUND', () => verifyPocRound({ ...roundWith(0), witnesses: [witness('stranger')] }).witnesses[0]],
    ['NOT_ASSERTED', () => judgeOne(null as unknown as string)],
    ['DENIED', () => judgeOne(FAR_CELL, {}, { denylist: new Set(['w']) })],
    ['SELF_WITNESS', () => verifyPocRound({ ...roundWith(0), witnesses: [witness('beaconer')] }).witnesses[0]],
    ['ENTROPY_EXPIRED', () => judgeOne(FAR_CELL, { receivedAtMs: ENTROPY_START_MS + 180_001 })],
    ['INVALID_PACKET', () => judgeOne(FAR_CELL, { data: 'b3RoZXI' })],
  ] as const)('%s', (reason, judge) => {
    expect(judge()).toMatchObject({ status: 'invalid', reason, side: 'witness' });
  });

  it('INVALID_CAPABILITY and INVALID_REGION come from the witness hotspot', () => {
    const round = roundWith(0);
    for (const [extra, reason] of [
      [{ capability: 'data-only' }, 'INVALID_CAPABILITY'],
      [{ region: 'US915' }, 'INVALID_REGION'],
    ] as const) {
      const hotspots = new Map(round.hotspots).set('w', hotspot('w', FAR_CELL, extra));
      expect(verifyPocRound({ ...round, hotspots, witnesses: [witness('w')] }).witnesses[0]!.reason).toBe(reason);
    }
  });

  it('checks in order: a denied, late, wrong-frequency witness is DENIED', () => {
    expect(judgeOne(FAR_CELL, { frequencyHz: 1, receivedAtMs: BEACON_AT_MS + 9000 }, { denylist: new Set(['w']) }).reason).toBe('DENIED');
    expect(judgeOne(FAR_CELL, { frequencyHz: 1, receivedAtMs: BEACON_AT_MS + 9000 }).reason).toBe('TOO_LATE');
  });

  it('DUPLICATE: a second report from the same hotspot', () => {
    const round = roundWith(1);
    const again = { ...round.witnesses[0]!, receivedAtMs: round.witnesses[0]!.receivedAtMs + 5 };
    const verdicts = verifyPocRound({ ...round, witnesses: [again, round.witnesses[0]!] }).witnesses;
    expect(verdicts.map((v) => v.reason ?? v.status)).toEqual(['valid', 'DUPLICATE']);
  });
});

describe('verifyPocRound: HIP-15 reward units', () => {
  it.each([
    [0, 0, 0],
    [2, 0.5, 1],
    [5, 1.2, 0.76],
    [14, 1.8926, 0.222],
  ])('%i witnesses → beaconer %d, each witness %d', (count, beaconUnit, witnessUnit) => {
    const result = verifyPocRound(roundWith(count));
    expect(result.beaconRewardUnit).toBe(beaconUnit);
    expect(result.witnesses).toHaveLength(count);
    for (const w of result.witnesses) expect(w.rewardUnit).toBe(witnessUnit);
  });

  it('rewards at most 14 witnesses, the earliest received', () => {
    const round = roundWith(16);
    const witnesses = [...round.witnesses].reverse(); // arrival order must not depend on input order
    const result = verifyPocRound({ ...round, witnesses });
    const selected = result.witnesses.filter((w) => w.selected).map((w) => w.key);
    expect(selected).toEqual(Array.from({ length: 14 }, (_, i) => `w${i}`));
    expect(result.witnesses.filter((w) => w.status === 'valid')).toHaveLength(16);
    expect(result.witnesses.find((w) => w.key === 'w15')).toMatchObject({ status: 'valid', selected: false, rewardUnit: 0 });
    expect(result.beaconRewardUnit).toBe(1.8926);
  });

  it('reports the beaconer hex scale (default 0.2 when the map lacks it)', () => {
    expect(verifyPocRound(roundWith(1)).hexScale).toBe(0.2);
    expect(verifyPocRound(roundWith(1, { densityScales: new Map([[BEACONER_CELL, 0.5]]) })).hexScale).toBe(0.5);
  });
});
