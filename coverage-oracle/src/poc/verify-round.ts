import type { H3Cell } from '@hexedge/protocol';
import {
  BEACON_INTERVAL_MS,
  DEFAULT_HEX_SCALE,
  ENTROPY_LIFESPAN_MS,
  MAX_BEACON_TO_WITNESS_LAG_MS,
  MAX_FREQUENCY_OFFSET_HZ,
  MAX_REWARDED_WITNESSES,
  MAX_WITNESS_DISTANCE_KM,
  MAX_WITNESS_LAG_MS,
  MIN_WITNESS_CELL_DISTANCE,
} from './constants.ts';
import { cellCentreDistanceM, maxExpectedSignalDbm, parentCellDistance } from './radio.ts';
import { beaconerRewardUnit, perWitnessRewardUnit } from './reward-units.ts';
import type {
  BeaconInvalidReason,
  BeaconReport,
  BeaconVerdict,
  Hotspot,
  PocRoundInput,
  PocRoundResult,
  WitnessInvalidReason,
  WitnessReport,
  WitnessVerdict,
} from './types.ts';

function isEntropyExpired(receivedAtMs: number, entropyStartMs: number): boolean {
  return receivedAtMs < entropyStartMs || receivedAtMs > entropyStartMs + ENTROPY_LIFESPAN_MS;
}

function verifyBeacon(input: PocRoundInput): { verdict: BeaconVerdict; beaconer?: Hotspot } {
  const { beacon, hotspots, denylist, lastBeaconAtMs, entropyStartMs } = input;
  const invalid = (reason: BeaconInvalidReason, beaconer?: Hotspot) => ({
    verdict: { status: 'invalid' as const, reason },
    ...(beaconer ? { beaconer } : {}),
  });
  const beaconer = hotspots.get(beacon.key);
  if (!beaconer) return invalid('GATEWAY_NOT_FOUND');
  if (!beaconer.cell) return invalid('NOT_ASSERTED', beaconer);
  if (denylist?.has(beacon.key)) return invalid('DENIED', beaconer);
  if (isEntropyExpired(beacon.receivedAtMs, entropyStartMs)) return invalid('ENTROPY_EXPIRED', beaconer);
  if (beaconer.capability !== 'full') return invalid('INVALID_CAPABILITY', beaconer);
  // Buckets, not a sliding window: a beaconer may beacon once in each 6 h bucket however close the two are.
  if (lastBeaconAtMs !== undefined && Math.floor(beacon.receivedAtMs / BEACON_INTERVAL_MS) <= Math.floor(lastBeaconAtMs / BEACON_INTERVAL_MS)) {
    return invalid('IRREGULAR_INTERVAL', beaconer);
  }
  return { verdict: { status: 'valid' }, beaconer };
}

interface WitnessContext {
  beacon: BeaconReport;
  beaconer: Hotspot & { cell: H3Cell };
  hotspots: ReadonlyMap<string, Hotspot>;
  denylist: ReadonlySet<string> | undefined;
  entropyStartMs: number;
  firstWitnessAtMs: number;
}

/** The witness checks, in Helium's order; the first that fails names the reason. */
function checkWitness(witness: WitnessReport, ctx: WitnessContext): WitnessInvalidReason | null {
  const { beacon, beaconer } = ctx;
  const hotspot = ctx.hotspots.get(witness.key);
  if (!hotspot) return 'GATEWAY_NOT_FOUND';
  if (!hotspot.cell) return 'NOT_ASSERTED';
  if (ctx.denylist?.has(witness.key)) return 'DENIED';
  if (witness.key === beacon.key) return 'SELF_WITNESS';
  if (isEntropyExpired(witness.receivedAtMs, ctx.entropyStartMs)) return 'ENTROPY_EXPIRED';
  // Witnesses are timed from whichever reached the oracle first: the beacon (4 s), or, when the beacon's
  // own report was slower than its witnesses', the first witness (1.5 s).
  const beaconFirst = beacon.receivedAtMs <= ctx.firstWitnessAtMs;
  const lagMs = witness.receivedAtMs - (beaconFirst ? beacon.receivedAtMs : ctx.firstWitnessAtMs);
  if (lagMs > (beaconFirst ? MAX_BEACON_TO_WITNESS_LAG_MS : MAX_WITNESS_LAG_MS)) return 'TOO_LATE';
  if (witness.data !== beacon.data) return 'INVALID_PACKET';
  if (hotspot.capability !== 'full') return 'INVALID_CAPABILITY';
  if (Math.abs(witness.frequencyHz - beacon.frequencyHz) > MAX_FREQUENCY_OFFSET_HZ) return 'INVALID_FREQUENCY';
  if (hotspot.region !== beaconer.region) return 'INVALID_REGION';
  const cellDistance = parentCellDistance(beaconer.cell, hotspot.cell);
  if (cellDistance === null || cellDistance < MIN_WITNESS_CELL_DISTANCE) return 'BELOW_MIN_DISTANCE';
  const distanceM = cellCentreDistanceM(beaconer.cell, hotspot.cell);
  if (Math.floor(distanceM / 1000) > MAX_WITNESS_DISTANCE_KM) return 'MAX_DISTANCE_EXCEEDED';
  const maxSignalDbm = maxExpectedSignalDbm({
    txPowerDbm: beacon.txPowerDbm,
    beaconerGainDbi: beaconer.gainDbi,
    witnessGainDbi: hotspot.gainDbi,
    distanceM,
    frequencyHz: witness.frequencyHz,
  });
  if (witness.signalDbm > maxSignalDbm) return 'BAD_RSSI';
  return null;
}

function byArrival(a: { receivedAtMs: number; key: string }, b: { receivedAtMs: number; key: string }): number {
  return a.receivedAtMs - b.receivedAtMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * Judges one proof-of-coverage round (a beacon and the witnesses that heard it) as Helium's IoT
 * verifier does. Pure: every fact it needs comes in `input`, and every outcome is a verdict value.
 */
export function verifyPocRound(input: PocRoundInput): PocRoundResult {
  const witnesses = [...input.witnesses].sort(byArrival);
  const { verdict: beaconVerdict, beaconer } = verifyBeacon(input);
  const hexScale = beaconer?.cell ? (input.densityScales?.get(beaconer.cell) ?? DEFAULT_HEX_SCALE) : DEFAULT_HEX_SCALE;

  if (beaconVerdict.status === 'invalid' || !beaconer?.cell) {
    // An invalid beacon takes its witnesses with it: they heard nothing that counts.
    const verdicts = witnesses.map(
      (w): WitnessVerdict => ({
        key: w.key,
        receivedAtMs: w.receivedAtMs,
        status: 'invalid',
        reason: beaconVerdict.reason ?? 'NOT_ASSERTED',
        side: 'beaconer',
        selected: false,
        rewardUnit: 0,
      }),
    );
    return { beacon: beaconVerdict, witnesses: verdicts, beaconRewardUnit: 0, hexScale };
  }

  const ctx: WitnessContext = {
    beacon: input.beacon,
    beaconer: beaconer as Hotspot & { cell: H3Cell },
    hotspots: input.hotspots,
    denylist: input.denylist,
    entropyStartMs: input.entropyStartMs,
    firstWitnessAtMs: witnesses[0]?.receivedAtMs ?? input.beacon.receivedAtMs,
  };
  const seen = new Set<string>();
  const verdicts = witnesses.map((w): WitnessVerdict => {
    const failure = checkWitness(w, ctx) ?? (seen.has(w.key) ? 'DUPLICATE' : null);
    seen.add(w.key);
    const base = { key: w.key, receivedAtMs: w.receivedAtMs, selected: false, rewardUnit: 0 };
    return failure ? { ...base, status: 'invalid', reason: failure, side: 'witness' } : { ...base, status: 'valid' };
  });

  // Already in arrival order, so the first 14 valid ones are the earliest received.
  const selected = verdicts.filter((v) => v.status === 'valid').slice(0, MAX_REWARDED_WITNESSES);
  const unit = perWitnessRewardUnit(selected.length);
  for (const v of selected) {
    v.selected = true;
    v.rewardUnit = unit;
  }
  return { beacon: beaconVerdict, witnesses: verdicts, beaconRewardUnit: beaconerRewardUnit(selected.length), hexScale };
}
