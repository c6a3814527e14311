import { type LatLng } from '@hexedge/protocol';
import { regionsAt } from '@hexedge/placement';
import { cellToLatLng, cellToParent, isValidCell, latLngToCell } from 'h3-js';
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import type { EventBus, GatewayEvent } from '../events/event-bus.ts';
import type { RequestLog, RequestObservation } from '../events/request-log.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';

/** Public request events carry a res-4 cell (~1,770 km², a county): enough for a map, not a caller's address. */
export const PUBLIC_EVENT_RES = 4;
/** The developer view's timeline: the last hour, per minute. */
export const DETAIL_WINDOW_MS = 60 * 60_000;
export const DETAIL_BUCKET_MS = 60_000;

function locationOf(body: unknown): LatLng | undefined {
  const loc = (body as { location?: { lat?: unknown; lng?: unknown; cell?: unknown } } | null)?.location;
  if (
    typeof loc?.lat === 'number' &&
    typeof loc.lng === 'number' &&
    Math.abs(loc.lat) <= 90 &&
    Math.abs(loc.lng) <= 180
  )
    return { lat: loc.lat, lng: loc.lng };
  if (typeof loc?.cell === 'string' && isValidCell(loc.cell)) {
    const [lat, lng] = cellToLatLng(loc.cell);
    return { lat, lng };
  }
  return undefined;
}

/**
 * Regions by res-8 cell (~0.7 km²): callers repeat their places, and a border lookup (country-coder)
 * costs tens of µs a request. The dashboard's region is then the region of the cell's centre; bounded
 * (a caller sending random places clears it rather than growing it).
 */
const REGION_CELL_RES = 8;
const REGION_CACHE_MAX = 4096;
const regionByCell = new Map<string, string | null>();

/** Res-8 cells by exact location: devices report from the same spot again and again (~5 µs a lookup saved). */
const cellByLocation = new Map<string, string>();

function fineCellOf(location: LatLng): string {
  const key = `${location.lat},${location.lng}`;
  let cell = cellByLocation.get(key);
  if (cell === undefined) {
    cell = latLngToCell(location.lat, location.lng, REGION_CELL_RES);
    if (cellByLocation.size >= REGION_CACHE_MAX) cellByLocation.clear();
    cellByLocation.set(key, cell);
  }
  return cell;
}

/** The caller's country (ISO 3166-1 id) where the location is on land, else the first region, else none. */
function regionOf(cell: string | undefined): string | undefined {
  if (!cell) return undefined;
  let region = regionByCell.get(cell);
  if (region === undefined) {
    const [lat, lng] = cellToLatLng(cell);
    const ids = regionsAt({ lat, lng });
    region = ids.find((id) => /^[A-Z]{2}$/.test(id)) ?? ids[0] ?? null;
    if (regionByCell.size >= REGION_CACHE_MAX) regionByCell.clear();
    regionByCell.set(cell, region);
  }
  return region ?? undefined;
}

/**
 * Watches POST /v1/infer from outside (registered before the route): after the answer it records the
 * request for the dashboards and publishes it to the caller's key and, coarsened, to the public map.
 * It reads the body and the answer the handler left in the context (an error answer from a clone), so
 * the inference path is untouched and nothing is parsed twice.
 */
export function observeInfer(options: InferWatch): MiddlewareHandler<GatewayEnv> {
  const record = inferRecorder(options);
  return async (c, next) => {
    const started = performance.now();
    await next();
    const key = c.get('apiKey') as ApiKeyRecord | undefined;
    // Refused before authentication, or an idempotent replay already counted: nothing to show.
    if (!key || c.res.headers.get('Idempotent-Replayed')) return;
    // The handler leaves the parsed body and the answer in the context; only an error answer is read back.
    const answer = (c.get('inferAnswer') ??
      (await c.res
        .clone()
        .json()
        .catch(() => undefined))) as WatchedAnswer | undefined;
    record({
      key,
      body: c.get('inferBody'),
      answer,
      status: c.res.status,
      cacheStatus: c.res.headers.get('X-HexEdge-Cache'),
      startedMs: started,
    });
  };
}

export interface InferWatch {
  requests: RequestLog;
  events: EventBus;
  now: () => number;
}
type WatchedAnswer = {
  node?: { id?: string };
  timing?: { totalMs?: number };
  receipt?: { body?: { serviceTimeMs?: number } };
  error?: { code?: string };
};

/**
 * What `observeInfer` does with one answered, authenticated, not replayed request (shared with the
 * Node listener's direct infer path): records it and publishes it to the key and the public map.
 */
export function inferRecorder(options: InferWatch) {
  return (o: {
    key: ApiKeyRecord;
    body: unknown;
    answer: WatchedAnswer | undefined;
    status: number;
    cacheStatus: string | null;
    startedMs: number;
  }): void => {
    const { key, body, answer } = o;
    const ok = o.status < 400;
    // An answer from the response cache was not served by its node now: no node time, no node request.
    // Read, never edited: the answer is the handler's own object, which the idempotency window replays.
    const served = o.cacheStatus === 'hit' ? undefined : answer;
    const location = locationOf(body);
    const fineCell = location ? fineCellOf(location) : undefined;
    const region = regionOf(fineCell);
    const model =
      typeof (body as { model?: unknown })?.model === 'string'
        ? (body as { model: string }).model.slice(0, 128)
        : 'unknown';
    // Built field by field, in the order the spread form had (the dashboards' JSON keeps it): the
    // record, and the key's event (the record without keyId and location), with no throw-away objects.
    const atMs = options.now();
    const totalMs = Math.round((answer?.timing?.totalMs ?? performance.now() - o.startedMs) * 1000) / 1000;
    const serviceMs = served?.receipt?.body?.serviceTimeMs;
    const nodeId = served?.node?.id;
    const code = ok ? undefined : (answer?.error?.code ?? 'INTERNAL');
    const obs: RequestObservation =
      code === undefined
        ? { atMs, keyId: key.id, model, ok, totalMs }
        : { atMs, keyId: key.id, model, ok, code, totalMs };
    const shown: Omit<RequestObservation, 'keyId' | 'location'> =
      code === undefined ? { atMs, model, ok, totalMs } : { atMs, model, ok, code, totalMs };
    if (serviceMs !== undefined) obs.serviceMs = shown.serviceMs = serviceMs;
    if (location) obs.location = location;
    if (region) obs.region = shown.region = region;
    if (nodeId) obs.nodeId = shown.nodeId = nodeId;
    options.requests.record(obs);
    options.events.publish({
      type: 'request',
      audience: { kind: 'key', keyId: key.id },
      atMs,
      data: shown,
    });
    const cell = fineCell ? cellToParent(fineCell, PUBLIC_EVENT_RES) : undefined;
    options.events.publish({
      type: 'request',
      audience: { kind: 'public' },
      atMs: obs.atMs,
      data: {
        model,
        ok,
        totalMs: obs.totalMs,
        ...(cell ? { cell } : {}),
        ...(obs.nodeId ? { nodeId: obs.nodeId } : {}),
      },
    });
  };
}

/** Which events a key may see: its own requests; fleets it owns (admin keys see every fleet). */
export function canSee(key: ApiKeyRecord, event: GatewayEvent, stream: 'developer' | 'fleet'): boolean {
  const a = event.audience;
  if (stream === 'developer') return a.kind === 'key' && a.keyId === key.id;
  return a.kind === 'fleet' && (key.role === 'admin' || a.ownerKeyId === key.id);
}

/** GET /v1/usage/detail (key): the caller's latency by region and requests per minute, last hour. */
export function usageDetailHandler(options: { requests: RequestLog; now: () => number }) {
  return (c: Context<GatewayEnv>) =>
    c.json({
      windowMs: DETAIL_WINDOW_MS,
      bucketMs: DETAIL_BUCKET_MS,
      ...options.requests.keyDetail({
        keyId: c.get('apiKey').id,
        nowMs: options.now(),
        windowMs: DETAIL_WINDOW_MS,
        bucketMs: DETAIL_BUCKET_MS,
      }),
    });
}

/** GET /v1/fleet/events (key): recent results and errors of the fleets the key may see, oldest first. */
export function fleetEventsHandler(events: EventBus) {
  return (c: Context<GatewayEnv>) => {
    const key = c.get('apiKey');
    return c.json({ events: events.recent((e) => canSee(key, e, 'fleet')) });
  };
}
