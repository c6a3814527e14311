import { HexEdgeError } from '../errors.ts';
import { MAX_DEADLINE_MS } from '../schemas/infer.ts';
import { PRIORITIES, type Priority } from '../schemas/priority.ts';

export { PRIORITIES, type Priority };

/**
 * What a request asks of the schedulers on its way, besides its body: a priority and a deadline. The
 * caller gives them in `policy.priority` / `policy.deadlineMs` (or the headers below); the gateway
 * forwards them to the node in headers, the deadline as the budget left when the request leaves the
 * gateway (relative, so the two clocks need not agree).
 */
export const DEFAULT_PRIORITY: Priority = 'normal';

/** `x-hexedge-priority: high|normal|low`, from a caller to the gateway and from the gateway to a node. */
export const PRIORITY_HEADER = 'x-hexedge-priority';
/** `x-hexedge-deadline-ms: <ms>`: the budget left for this request, in whole milliseconds from now. */
export const DEADLINE_HEADER = 'x-hexedge-deadline-ms';
/** MQTT v5 user properties a device may set on a request (the HTTP headers' twins). */
export const MQTT_PRIORITY_PROPERTY = 'hexedge-priority';
export const MQTT_DEADLINE_PROPERTY = 'hexedge-deadline-ms';
export const MQTT_CACHE_PROPERTY = 'hexedge-cache';

export const isPriority = (value: unknown): value is Priority =>
  typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);

/** A priority header or property; undefined when absent, INVALID_REQUEST naming the value when bad. */
export function parsePriority(value: string | undefined, what = PRIORITY_HEADER): Priority | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (isPriority(v)) return v;
  throw new HexEdgeError(
    'INVALID_REQUEST',
    `${what} ${JSON.stringify(value.slice(0, 32))} must be one of ${PRIORITIES.join(', ')}`,
  );
}

/** A deadline header or property (1 … MAX_DEADLINE_MS whole ms); undefined when absent. */
export function parseDeadlineMs(value: string | undefined, what = DEADLINE_HEADER): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^\d{1,9}$/.test(v) ? Number(v) : NaN;
  if (!(ms >= 1 && ms <= MAX_DEADLINE_MS))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${what} ${JSON.stringify(value.slice(0, 32))} must be whole milliseconds from 1 to ${MAX_DEADLINE_MS}`,
    );
  return ms;
}
