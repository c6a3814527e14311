import {
  DEADLINE_HEADER,
  formatTraceparent,
  MAX_DEADLINE_MS,
  parseDeadlineMs,
  parsePriority,
  parseTraceparent,
  PRIORITY_HEADER,
  TRACEPARENT_HEADER,
  type PlacementPolicy,
  type Priority,
  type TraceContext,
} from '@hexedge/protocol';
import type { CacheUse } from '../cache/infer-cache.ts';

/**
 * What a request says outside its body: the caller's trace (HTTP `traceparent`, MQTT v5 user property
 * `traceparent`, a fresh one for a LoRaWAN uplink), a priority and deadline (headers or user
 * properties; the body's `policy` wins where both are given) and its cache directives.
 */
export interface InferHints {
  trace?: TraceContext;
  priority?: Priority;
  deadlineMs?: number;
  /** `Cache-Control` request directives (`no-cache`: not answered from the cache; `no-store`: not stored). */
  cacheControl?: string;
  channel?: 'http' | 'mqtt' | 'bridge';
}

/** Hints from request headers (HTTP) or user properties (MQTT v5, same names); bad values are INVALID_REQUEST naming them. */
export function hintsFromHeaders(
  header: (name: string) => string | undefined,
  channel: InferHints['channel'],
): InferHints {
  const trace = parseTraceparent(header(TRACEPARENT_HEADER));
  const priority = parsePriority(header(PRIORITY_HEADER));
  const deadlineMs = parseDeadlineMs(header(DEADLINE_HEADER));
  const cacheControl = header('cache-control');
  return {
    ...(trace ? { trace } : {}),
    ...(priority ? { priority } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(cacheControl ? { cacheControl: cacheControl.slice(0, 256) } : {}),
    ...(channel ? { channel } : {}),
  };
}

/** The policy with the hints filled in where the body said nothing. */
export function withHints(
  policy: PlacementPolicy | undefined,
  hints: InferHints | undefined,
): PlacementPolicy | undefined {
  if (!hints || (hints.priority === undefined && hints.deadlineMs === undefined)) return policy;
  return {
    ...policy,
    ...(policy?.priority === undefined && hints.priority ? { priority: hints.priority } : {}),
    ...(policy?.deadlineMs === undefined && hints.deadlineMs !== undefined
      ? { deadlineMs: hints.deadlineMs }
      : {}),
  };
}

/** `policy.cache: false` opts out entirely; `Cache-Control: no-cache` skips the lookup, `no-store` the store. */
export function cacheUseOf(policy: PlacementPolicy | undefined, hints: InferHints | undefined): CacheUse {
  if (policy?.cache === false) return { read: false, write: false };
  const directives = (hints?.cacheControl ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  return { read: !directives.includes('no-cache'), write: !directives.includes('no-store') };
}

/**
 * What a node's scheduler and tracer learn besides the body (live traffic and the oracle's re-runs
 * alike): the trace, the budget left (whole ms, relative), the priority when one was asked for.
 */
export function hintHeadersFor(o: {
  trace: TraceContext;
  deadlineMs: number;
  priority: Priority | undefined;
}): Record<string, string> {
  return {
    [TRACEPARENT_HEADER]: formatTraceparent(o.trace),
    [DEADLINE_HEADER]: String(Math.max(1, Math.min(MAX_DEADLINE_MS, Math.floor(o.deadlineMs)))),
    ...(o.priority ? { [PRIORITY_HEADER]: o.priority } : {}),
  };
}
