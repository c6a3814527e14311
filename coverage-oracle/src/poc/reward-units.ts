import {
  BEACONER_REWARD_UNIT_CAP,
  POC_REWARD_DECAY_RATE,
  SCALING_PRECISION_DIGITS,
  WITNESS_REDUNDANCY,
} from './constants.ts';

const SCALE = 10 ** SCALING_PRECISION_DIGITS;

/** Rounds to Helium's 4 decimals, so units and scales are the same numbers everywhere they are stored. */
export function roundToScalingPrecision(value: number): number {
  return Math.round(value * SCALE) / SCALE;
}

/**
 * HIP-15 beaconer unit for `witnessCount` valid, selected witnesses: count / R up to the redundancy R,
 * then 2 − decay^(count − R) (each extra witness adds less), capped at 2.
 */
export function beaconerRewardUnit(witnessCount: number): number {
  if (witnessCount <= 0) return 0;
  if (witnessCount <= WITNESS_REDUNDANCY) return roundToScalingPrecision(witnessCount / WITNESS_REDUNDANCY);
  const unit = 2 - POC_REWARD_DECAY_RATE ** (witnessCount - WITNESS_REDUNDANCY);
  return roundToScalingPrecision(Math.min(BEACONER_REWARD_UNIT_CAP, unit));
}

/**
 * HIP-15 unit of each witness: 1 up to the redundancy; beyond it the witnesses share
 * R − (1 − decay^(count − R)) units, so a crowded beacon is worth little more to its witnesses in total.
 */
export function perWitnessRewardUnit(witnessCount: number): number {
  if (witnessCount <= 0) return 0;
  if (witnessCount <= WITNESS_REDUNDANCY) return 1;
  const shared = WITNESS_REDUNDANCY - (1 - POC_REWARD_DECAY_RATE ** (witnessCount - WITNESS_REDUNDANCY));
  return roundToScalingPrecision(Math.min(BEACONER_REWARD_UNIT_CAP, shared / witnessCount));
}
