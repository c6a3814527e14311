import {
  MQTT_CACHE_PROPERTY,
  MQTT_DEADLINE_PROPERTY,
  MQTT_PRIORITY_PROPERTY,
  parseDeadlineMs,
  parsePriority,
  parseTraceparent,
  TRACEPARENT_HEADER,
} from '@hexedge/protocol';
import type { InferHints } from '../infer/infer-hints.ts';

/** A user property's value (MQTT allows one name several times: the first counts). */
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * The hints an MQTT v5 request carries in user properties: `traceparent` (W3C, the device's span),
 * `hexedge-priority`, `hexedge-deadline-ms` and `hexedge-cache` (`no-cache`, `no-store`, as HTTP's
 * Cache-Control). A bad priority or deadline is INVALID_REQUEST naming it; a bad traceparent starts a
 * new trace. v3.1.1 has no properties: its requests use the body's `policy`.
 */
export function mqttHints(properties: Record<string, string | string[]> | undefined): InferHints {
  if (!properties) return { channel: 'mqtt' };
  const trace = parseTraceparent(first(properties[TRACEPARENT_HEADER]));
  const priority = parsePriority(
    first(properties[MQTT_PRIORITY_PROPERTY]),
    `user property ${MQTT_PRIORITY_PROPERTY}`,
  );
  const deadlineMs = parseDeadlineMs(
    first(properties[MQTT_DEADLINE_PROPERTY]),
    `user property ${MQTT_DEADLINE_PROPERTY}`,
  );
  const cache = first(properties[MQTT_CACHE_PROPERTY]);
  return {
    channel: 'mqtt',
    ...(trace ? { trace } : {}),
    ...(priority ? { priority } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(cache ? { cacheControl: cache.slice(0, 256) } : {}),
  };
}
