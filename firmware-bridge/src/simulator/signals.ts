import type { LatLng } from '@hexedge/protocol';
import { greatCircleDistanceKm } from '@hexedge/protocol';
import type { SimulatedReception } from './uplink-event.ts';

/** mulberry32: a small seeded PRNG so a simulated fleet replays identically. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface SimGateway {
  gatewayId: string;
  location: LatLng;
}

/** Three hotspots in central Amsterdam. */
export const DEMO_GATEWAYS: readonly SimGateway[] = [
  { gatewayId: '0016c001ff10a001', location: { lat: 52.3702, lng: 4.8952 } },
  { gatewayId: '0016c001ff10a002', location: { lat: 52.36, lng: 4.885 } },
  { gatewayId: '0016c001ff10a003', location: { lat: 52.378, lng: 4.91 } },
];

/** Log-distance path loss at 868 MHz, fitted so 1 km reads about −110 dBm, typical of a city link. */
const RSSI_AT_1M_DBM = -29;
const PATH_LOSS_EXPONENT = 2.7;
/** SX127x demodulates down to about −20 dB SNR at SF12; fainter receptions are not heard. */
const MIN_SNR_DB = -20;
const NOISE_FLOOR_DBM = -117;

export function receptionsAt(options: { position: LatLng; random: () => number }): SimulatedReception[] {
  const out: SimulatedReception[] = [];
  for (const g of DEMO_GATEWAYS) {
    const distanceM = Math.max(1, greatCircleDistanceKm(options.position, g.location) * 1000);
    const rssiDbm = RSSI_AT_1M_DBM - 10 * PATH_LOSS_EXPONENT * Math.log10(distanceM) + 3 * gaussian(options.random);
    const snrDb = Math.min(10, rssiDbm - NOISE_FLOOR_DBM);
    if (snrDb >= MIN_SNR_DB) out.push({ gatewayId: g.gatewayId, rssiDbm, snrDb, location: g.location });
  }
  return out;
}

export type RoomScenario = 'empty' | 'occupied-ventilated' | 'occupied-poorly-ventilated';

export interface RoomReading {
  temperatureC: number;
  humidityPct: number;
  co2Ppm: number;
  lightLux: number;
  motionCount: number;
}

/** CO2 approaches its steady state with the room's air-change rate; 0.15 per 5 min ≈ 1.8 ACH. */
const CO2_APPROACH_PER_READING = 0.15;
const CO2_STEADY_PPM: Record<RoomScenario, number> = { empty: 420, 'occupied-ventilated': 800, 'occupied-poorly-ventilated': 1450 };

export function nextRoomReading(options: { previous?: RoomReading; scenario: RoomScenario; random: () => number }): RoomReading {
  const { previous, scenario, random } = options;
  const occupied = scenario !== 'empty';
  const co2 = previous?.co2Ppm ?? 450;
  return {
    temperatureC: Math.round((21 + (occupied ? 1.5 : 0) + 0.3 * gaussian(random)) * 10) / 10,
    humidityPct: Math.round((40 + (occupied ? 8 : 0) + 2 * gaussian(random)) * 2) / 2,
    co2Ppm: Math.round(co2 + CO2_APPROACH_PER_READING * (CO2_STEADY_PPM[scenario] - co2) + 15 * gaussian(random)),
    lightLux: Math.max(0, Math.round(occupied ? 420 + 60 * gaussian(random) : 15 + 5 * random())),
    motionCount: occupied ? Math.floor(4 + 12 * random()) : 0,
  };
}

export type MachineState = 'normal' | 'imbalance';

/** 160 ms at 3200 Hz of a 1500 rpm pump: 1× running speed plus sensor noise; imbalance raises 1× radially. */
export function vibrationBurst(options: { state: MachineState; samples: number; sampleRateHz: number; random: () => number }): Record<'x' | 'y' | 'z', number[]> {
  const { state, samples, sampleRateHz, random } = options;
  const shaftHz = 25;
  const radialG = state === 'imbalance' ? 0.6 : 0.05;
  const out = { x: [] as number[], y: [] as number[], z: [] as number[] };
  for (let n = 0; n < samples; n++) {
    const phase = (2 * Math.PI * shaftHz * n) / sampleRateHz;
    out.x.push(radialG * Math.sin(phase) + 0.02 * gaussian(random));
    out.y.push(radialG * Math.cos(phase) + 0.02 * gaussian(random));
    out.z.push(0.03 * Math.sin(2 * phase) + 0.02 * gaussian(random));
  }
  return out;
}
