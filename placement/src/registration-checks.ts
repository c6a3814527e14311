import { HexEdgeError, type LatLng } from '@hexedge/protocol';
import type { NodeRecord } from './node-record.ts';

/** A signed message may be at most this far from the registry's clock (either direction). */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** Moves shorter than this are GPS jitter (consumer GPS errs by ~5 m), not a location change. */
export const LOCATION_JITTER_KM = 0.05;
/** A node may change location at most once per hour: each move costs the oracle a re-verification. */
export const MIN_LOCATION_CHANGE_INTERVAL_MS = 60 * 60_000;

/** Refuses a signed node message issued more than MAX_CLOCK_SKEW_MS from the registry's clock. */
export function checkFresh(o: { issuedAtMs: number; nowMs: number; what: string }): void {
  const skewMs = Math.abs(o.nowMs - o.issuedAtMs);
  if (skewMs > MAX_CLOCK_SKEW_MS) {
    throw new HexEdgeError(
      'STALE_MESSAGE',
      `${o.what} issuedAtMs ${o.issuedAtMs} is ${skewMs} ms from the registry clock (max ${MAX_CLOCK_SKEW_MS})`,
    );
  }
}

/** Refuses a move less than MIN_LOCATION_CHANGE_INTERVAL_MS after the node's last one. */
export function checkMoveAllowed(
  existing: Pick<NodeRecord, 'id' | 'locationChangedAtMs'>,
  to: LatLng,
  nowMs: number,
): void {
  const lastMoveMs = existing.locationChangedAtMs;
  if (lastMoveMs !== null && nowMs - lastMoveMs < MIN_LOCATION_CHANGE_INTERVAL_MS) {
    const waitS = Math.ceil((MIN_LOCATION_CHANGE_INTERVAL_MS - (nowMs - lastMoveMs)) / 1000);
    throw new HexEdgeError(
      'RATE_LIMITED',
      `node ${existing.id} moved less than an hour ago; the move to (${to.lat}, ${to.lng}) is refused, retry in ${waitS} s`,
      { retryAfterS: waitS },
    );
  }
}
