/**
 * The simulated world: the model catalogue, request streams with their diurnal curves and latency
 * targets, and the network between a client and a node. Placement's own latency constants are
 * imported, so the world and the predictor agree on fibre speed, route stretch and last mile; what
 * placement cannot know (jitter, failures, true locations) is added here.
 */
import { FIBER_KM_PER_MS, networkRttMs } from '@hexedge/placement';
import type { Rng } from './random.ts';
import { exponential } from './random.ts';

export interface ModelSpec {
  name: string;
  version: string;
  contentId: string;
  sizeBytes: number;
  prefersAccelerator: boolean;
  /** Mean service time on a typical node of each class, ms. */
  cpuServiceMs: number;
  gpuServiceMs: number;
  /** Share of nodes of each class holding it at start (the planner adds more where demand lacks holders). */
  cpuShare: number;
  gpuShare: number;
}

const contentId = (seed: string) => seed.repeat(64).slice(0, 64);

/**
 * Four models spanning the fabric's range: the two sensor models `hexedge dev` serves, text
 * recognition (ppocr-rec v4 runs ~35 ms on an edge CPU core, ~6 ms on a small GPU) and an object
 * detector whose manifest prefers an accelerator (a YOLO-class model is ~10× slower on CPU).
 */
export const MODELS: readonly ModelSpec[] = [
  { name: 'comfort-index', version: '1.0.0', contentId: contentId('a1'), sizeBytes: 4_096, prefersAccelerator: false, cpuServiceMs: 1, gpuServiceMs: 1, cpuShare: 0.9, gpuShare: 0.9 },
  { name: 'vibration-anomaly', version: '1.0.0', contentId: contentId('b2'), sizeBytes: 1_200_000, prefersAccelerator: false, cpuServiceMs: 6, gpuServiceMs: 2, cpuShare: 0.8, gpuShare: 0.9 },
  { name: 'ppocr-rec', version: '4.0.0', contentId: contentId('c3'), sizeBytes: 10_500_000, prefersAccelerator: false, cpuServiceMs: 35, gpuServiceMs: 6, cpuShare: 0.4, gpuShare: 0.9 },
  { name: 'object-detect', version: '8.0.0', contentId: contentId('d4'), sizeBytes: 25_000_000, prefersAccelerator: true, cpuServiceMs: 180, gpuServiceMs: 12, cpuShare: 0.05, gpuShare: 0.9 },
];

export interface StreamSpec {
  name: 'device' | 'app';
  /** Share of all requests, averaged over a day. */
  weight: number;
  /** Request latency target, ms (end to end: network, queue, service, failover). */
  targetMs: number;
  models: ReadonlyArray<{ model: string; weight: number }>;
  /** Relative request rate by local solar hour; averages 1 over a day. */
  activity: (localHour: number) => number;
  /** Share of its requests that ask the gateway to hedge (`policy.hedge`). */
  hedgeShare: number;
}

/** Busiest at 16:00 local solar time, quietest at 04:00. */
const daytime = (h: number) => Math.sin((Math.PI * (h - 4)) / 24) ** 2;

export const STREAMS: readonly StreamSpec[] = [
  // IoT fleets report around the clock with a daytime bump (machines run in shifts).
  // Their firmware sends the plain request body: no hedging.
  { name: 'device', weight: 0.6, targetMs: 100, models: [{ model: 'vibration-anomaly', weight: 0.6 }, { model: 'comfort-index', weight: 0.4 }], activity: (h) => 0.7 + 0.6 * daytime(h), hedgeShare: 0 },
  // People: little at night, a strong afternoon and evening. Assumed: a quarter of app requests are
  // interactive enough to pay for a hedged copy.
  { name: 'app', weight: 0.4, targetMs: 50, models: [{ model: 'ppocr-rec', weight: 0.5 }, { model: 'object-detect', weight: 0.5 }], activity: (h) => 0.2 + 1.6 * daytime(h), hedgeShare: 0.25 },
];
export const MAX_ACTIVITY = 1.8;

export function localSolarHour(utcMs: number, lng: number): number {
  const h = (utcMs / 3_600_000 + lng / 15) % 24;
  return h < 0 ? h + 24 : h;
}

/** Router queueing on the path: exponential, mean 2 ms (added to every realised round trip). */
export const JITTER_MEAN_MS = 2;
/**
 * A host that is down without answering (power cut, network gone) fails an attempt only when the
 * gateway's HTTP client gives up connecting: its undici pool sets no connect timeout, so undici's
 * default of 10 s applies. The walk's attempt timeout moves on sooner, except on the last candidate.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Node-to-node latency probes (wired backhaul both ends, timed at the challenger): 1 ms of access round trip. */
export const PROBE_ACCESS_RTT_MS = 1;

/** Expected client↔node round trip over `distanceKm` of great circle (placement's model plus mean jitter). */
export function expectedRttMs(distanceKm: number): number {
  return networkRttMs(distanceKm) + JITTER_MEAN_MS;
}

export function realisedRttMs(distanceKm: number, rand: Rng): number {
  return networkRttMs(distanceKm) + exponential(rand, JITTER_MEAN_MS);
}

/** The physical floor: light in fibre along the great circle, there and back. */
export function fibreRttMs(distanceKm: number): number {
  return (2 * distanceKm) / FIBER_KM_PER_MS;
}

/**
 * Mean wait in an M/M/c queue by Sakasegawa's approximation (Wq ≈ S·ρ^(√(2(c+1))−1) / (c(1−ρ))),
 * Infinity at or past saturation (the node refuses with 503).
 */
export function queueWaitMs(options: { serviceMs: number; utilisation: number; slots: number }): number {
  const { serviceMs, utilisation: rho, slots } = options;
  if (rho >= 1) return Infinity;
  if (rho <= 0) return 0;
  return (serviceMs * rho ** (Math.sqrt(2 * (slots + 1)) - 1)) / (slots * (1 - rho));
}
