import type { H3Cell } from '@hexedge/protocol';

/** Why a beacon or witness does not count. SCREAMING_SNAKE_CASE, as Helium's `InvalidReason` names them. */
export type BeaconInvalidReason =
  | 'GATEWAY_NOT_FOUND'
  | 'NOT_ASSERTED'
  | 'DENIED'
  | 'ENTROPY_EXPIRED'
  | 'INVALID_CAPABILITY'
  | 'IRREGULAR_INTERVAL';

export type WitnessInvalidReason =
  | 'GATEWAY_NOT_FOUND'
  | 'NOT_ASSERTED'
  | 'DENIED'
  | 'SELF_WITNESS'
  | 'ENTROPY_EXPIRED'
  | 'TOO_LATE'
  | 'INVALID_PACKET'
  | 'INVALID_CAPABILITY'
  | 'INVALID_FREQUENCY'
  | 'INVALID_REGION'
  | 'BELOW_MIN_DISTANCE'
  | 'MAX_DISTANCE_EXCEEDED'
  | 'BAD_RSSI'
  | 'DUPLICATE';

export type HotspotCapability = 'full' | 'data-only';

/** A hotspot as asserted on the network: its key, its res-12 cell (null until asserted), antenna and region. */
export interface Hotspot {
  key: string;
  cell: H3Cell | null;
  gainDbi: number;
  /** LoRaWAN regional plan, e.g. 'EU868', 'US915'. */
  region: string;
  capability: HotspotCapability;
}

/** A beacon as the oracle received it; `data` is the beacon payload in base64url. */
export interface BeaconReport {
  key: string;
  receivedAtMs: number;
  data: string;
  frequencyHz: number;
  datarate: string;
  txPowerDbm: number;
}

export interface WitnessReport {
  key: string;
  receivedAtMs: number;
  data: string;
  frequencyHz: number;
  signalDbm: number;
  snrDb: number;
  datarate: string;
}

export interface BeaconVerdict {
  status: 'valid' | 'invalid';
  reason?: BeaconInvalidReason;
}

export interface WitnessVerdict {
  key: string;
  receivedAtMs: number;
  status: 'valid' | 'invalid';
  /** The witness's own failure, or the beacon's when the beacon is invalid (`side: 'beaconer'`). */
  reason?: WitnessInvalidReason | BeaconInvalidReason;
  side?: 'witness' | 'beaconer';
  /** Among the (at most 14) rewarded witnesses. A valid witness past the cap is valid but unselected. */
  selected: boolean;
  /** HIP-15 unit, before hex-density scaling; 0 unless selected. */
  rewardUnit: number;
}

export interface PocRoundInput {
  beacon: BeaconReport;
  witnesses: readonly WitnessReport[];
  /** The asserted hotspots by key (Helium's gateway cache). */
  hotspots: ReadonlyMap<string, Hotspot>;
  denylist?: ReadonlySet<string>;
  /** When the beaconer's previous valid beacon arrived, if ever. */
  lastBeaconAtMs?: number;
  entropyStartMs: number;
  nowMs: number;
  /** HIP-17 scales by res-12 cell (computeHexDensityScales); the beaconer's is reported as `hexScale`. */
  densityScales?: ReadonlyMap<string, number>;
}

export interface PocRoundResult {
  beacon: BeaconVerdict;
  witnesses: WitnessVerdict[];
  /** HIP-15 unit of the beaconer, before hex-density scaling; 0 when the beacon is invalid. */
  beaconRewardUnit: number;
  /** The beaconer's HIP-17 scale, which Helium applies to the beacon's and its witnesses' units. */
  hexScale: number;
}
