import type { StreamEvent } from '../api/event-stream.ts';

/**
 * The fleet view's data, derived from the firmware bridge's result and error messages
 * (firmware-bridge/src/bridge/messages.ts: ResultMessage, ErrorMessage) as the gateway relays them.
 */
export interface FleetResult {
  fleet: string;
  devEui: string;
  time?: string;
  fCnt?: number;
  fPort?: number;
  decoded?: Record<string, unknown>;
  inference?: { status: string; label?: string; confidence?: number; model?: string; node?: { id?: string }; receipt?: { body?: { serviceTimeMs?: number } }; haveReadings?: number; needReadings?: number };
  downlink?: { status: string; reason?: string; dataHex?: string; fPort?: number; delivery?: string; payloadBytes?: number };
}

export interface FleetError {
  fleet?: string;
  devEui?: string;
  code: string;
  message: string;
  time?: string;
}

export interface DeviceRow {
  key: string;
  last: FleetResult;
  atMs: number;
  uplinks: number;
}

/** Bucket edges (ms) of the service-time histogram: edge inference is milliseconds to a second. */
export const LATENCY_BUCKETS_MS = [5, 10, 20, 50, 100, 200, 500, 1000];

/** The requests-over-time chart: the last hour, per minute (fixed, so one event does not span years). */
const TIMELINE_BUCKETS = 60;
const MINUTE_MS = 60_000;

export function fleetModel(events: StreamEvent[], nowMs: number) {
  const devices = new Map<string, DeviceRow>();
  const errors: (FleetError & { atMs: number; id: number })[] = [];
  const histogram = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  const perMinute = new Map<number, { results: number; errors: number }>();
  for (const e of events) {
    const minute = Math.floor(e.atMs / 60_000) * 60_000;
    const slot = perMinute.get(minute) ?? { results: 0, errors: 0 };
    perMinute.set(minute, slot);
    if (e.type === 'fleet.error') {
      slot.errors++;
      errors.unshift({ ...(e.data as unknown as FleetError), atMs: e.atMs, id: e.id });
      continue;
    }
    if (e.type !== 'fleet.result') continue;
    slot.results++;
    const r = e.data as unknown as FleetResult;
    const key = `${r.fleet}/${r.devEui}`;
    devices.set(key, { key, last: r, atMs: e.atMs, uplinks: (devices.get(key)?.uplinks ?? 0) + 1 });
    const serviceMs = r.inference?.receipt?.body?.serviceTimeMs;
    if (typeof serviceMs === 'number') {
      const i = LATENCY_BUCKETS_MS.findIndex((edge) => serviceMs <= edge);
      histogram[i === -1 ? LATENCY_BUCKETS_MS.length : i]!++;
    }
  }
  const lastMinute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const minutes = Array.from({ length: TIMELINE_BUCKETS }, (_, i) => lastMinute - (TIMELINE_BUCKETS - 1 - i) * MINUTE_MS);
  return {
    devices: [...devices.values()].sort((a, b) => b.atMs - a.atMs),
    errors: errors.slice(0, 30),
    histogram,
    timeline: { x: minutes.map((m) => m / 1000), results: minutes.map((m) => perMinute.get(m)?.results ?? 0), errors: minutes.map((m) => perMinute.get(m)?.errors ?? 0) },
  };
}
