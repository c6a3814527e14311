import { bytesToHex } from './encoding.ts';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` is
 * `{version}-{trace-id}-{parent-id}-{trace-flags}`, lowercase hex, 2-32-16-2 digits. One request's
 * trace crosses every hop (device → broker → gateway → node → oracle spot check) under one trace id;
 * each hop names its own span id as the next hop's parent. HTTP carries it in the `traceparent`
 * header, MQTT v5 in a user property of the same name.
 */
export const TRACEPARENT_HEADER = 'traceparent';

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the span the next hop is a child of. */
  spanId: string;
  /** Bit 0: sampled (the caller records this trace). */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;
/** The longest `traceparent` taken at all (version 00 is 55 chars; later versions may append fields). */
export const MAX_TRACEPARENT_CHARS = 256;

/**
 * The trace context a `traceparent` value names, or undefined for anything the spec says to ignore
 * (wrong length or case, all-zero ids, version ff, extra fields on version 00): a bad header starts a
 * fresh trace, it never fails a request.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT_CHARS) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId!) || ALL_ZERO.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: parseInt(flags!, 16) };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.flags & 0xff).toString(16).padStart(2, '0')}`;
}

// Ids are drawn from a pool filled by one getRandomValues call per RANDOM_POOL_BYTES: a request takes
// two or three ids (trace, server span, one span per node attempt), and a call per id cost more than
// the rest of the trace. Trace ids are identifiers, not secrets; each byte is still used once.
const RANDOM_POOL_BYTES = 4096;
const pool = new Uint8Array(RANDOM_POOL_BYTES);
let poolAt = RANDOM_POOL_BYTES;

const randomHex = (bytes: number): string => {
  for (;;) {
    if (poolAt + bytes > RANDOM_POOL_BYTES) {
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    const hex = bytesToHex(pool.subarray(poolAt, (poolAt += bytes)));
    if (!ALL_ZERO.test(hex)) return hex;
  }
};

export const newSpanId = (): string => randomHex(8);

/** A fresh trace (a request that arrived without one, a LoRaWAN uplink at the bridge), sampled. */
export function newTraceContext(): TraceContext {
  return { traceId: randomHex(16), spanId: newSpanId(), flags: 1 };
}

/** The context a hop passes on: same trace and flags, its own span id as the parent. */
export function childTraceContext(parent: TraceContext, spanId: string = newSpanId()): TraceContext {
  return { traceId: parent.traceId, spanId, flags: parent.flags };
}
