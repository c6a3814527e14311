import type { ModelLoad, NodeModel } from '@hexedge/protocol';

/** Speed of light in vacuum, exact by the SI definition of the metre (299 792 458 m/s). */
export const SPEED_OF_LIGHT_KM_PER_MS = 299.792458;
/** Light in silica fibre travels at c / n with a refractive index n ≈ 1.5 (ITU-T G.652 fibre ≈ 1.47). */
export const FIBER_KM_PER_MS = (SPEED_OF_LIGHT_KM_PER_MS * 2) / 3;
/**
 * Fibre does not follow great circles: it runs along roads, rails and through peering points.
 * Bozkurt et al., "Why Is the Internet so Slow?!" (PAM 2017) measure minimum RTTs of about 3× the
 * c-latency of the great-circle path; dividing out fibre's 1.5× leaves a route stretch of about 2.
 */
export const ROUTE_STRETCH = 2;
/**
 * Round trip through the access network (radio or cable, home router, first IP hop) before any
 * distance is covered: ~10 ms for fixed broadband (FCC Measuring Broadband America, idle latency);
 * LTE is slower. It is the same for every node, so it moves only the `maxLatencyMs` bound, not the order.
 */
export const LAST_MILE_RTT_MS = 10;
/**
 * Service time assumed for a node that has reported none and has no observed outcomes: an int8
 * MobileNet-class model on an edge CPU core takes 10–30 ms. A planning prior, corrected by the first sample.
 */
export const DEFAULT_SERVICE_MS = 20;
/**
 * Cold-load estimate for a model a node has announced but not yet loaded: fetching the file from a peer
 * cache at ~100 Mbit/s (12.5 bytes per µs = 12 500 bytes per ms) plus building the ONNX Runtime
 * session (~500 ms for a small model on a CPU).
 */
export const PEER_FETCH_BYTES_PER_MS = 12_500;
export const SESSION_CREATE_MS = 500;
/** Model size assumed when a node does not announce `sizeBytes` (a quantized vision model, ~16 MB). */
export const DEFAULT_MODEL_SIZE_BYTES = 16 * 1024 * 1024;

/** Predicted network round trip between a client and a node `distanceKm` apart. */
export function networkRttMs(distanceKm: number): number {
  return LAST_MILE_RTT_MS + (2 * distanceKm * ROUTE_STRETCH) / FIBER_KM_PER_MS;
}

/** The farthest a node may be for its network round trip alone to fit in `rttMs` (0 if none fits). */
export function maxDistanceKmForRttMs(rttMs: number): number {
  return Math.max(0, ((rttMs - LAST_MILE_RTT_MS) * FIBER_KM_PER_MS) / (2 * ROUTE_STRETCH));
}

/**
 * Expected wait behind the node's queue. A node queues only once all its execution slots are busy, so
 * its `inFlight` count at that moment is its parallelism: the queue drains `inFlight` requests per
 * service time.
 */
export function queueWaitMs(load: ModelLoad | undefined, serviceMs: number): number {
  if (!load || load.queueDepth === 0) return 0;
  return (load.queueDepth * serviceMs) / Math.max(1, load.inFlight);
}

/** Time a node needs before it can run a model it has announced but not loaded; 0 when ready. */
export function coldLoadMs(entry: NodeModel): number {
  if (entry.ready) return 0;
  return SESSION_CREATE_MS + (entry.sizeBytes ?? DEFAULT_MODEL_SIZE_BYTES) / PEER_FETCH_BYTES_PER_MS;
}
