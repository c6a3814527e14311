import { trimOldest } from '@hexedge/protocol';
import { HexEdgeError } from '@hexedge/protocol';
import { clientSourceOf, type ClientSource } from './client-source.ts';

/** Token bucket limits, in messages per second with a burst. */
export interface BucketLimit {
  perSecond: number;
  burst: number;
}

/**
 * How often registrations and heartbeats are taken. Per source (checked first, before any signature
 * work; a source is an IPv4 address or an IPv6 /64, see client-source.ts): registrations are rare (a
 * node restarting), heartbeats come every few seconds from each node behind the address (one data
 * centre may hold hundreds). Per IPv6 /48 as well, looser (one customer's or hosting account's block
 * of 65 536 /64s): rotating /64s buys no fresh allowance beyond it. Per node (checked once the
 * signature holds, so nobody can spend an honest node's allowance): a few registrations a minute,
 * heartbeats at about twice the interval's pace.
 */
export interface NodeMessageLimitsConfig {
  /** Per source: an IPv4 address or an IPv6 /64 (the key keeps its old name). */
  registrationsPerIp: BucketLimit;
  heartbeatsPerIp: BucketLimit;
  /** Per IPv6 /48; never tighter than the per-source limit (each field is raised to it). */
  registrationsPer48: BucketLimit;
  heartbeatsPer48: BucketLimit;
  registrationsPerNode: BucketLimit;
  /** Multiples of the heartbeat interval's rate: 2 = twice the expected pace. */
  heartbeatsPerNodePerInterval: number;
}

/**
 * The /48 numbers: a data centre of ~1 000 nodes behind one /48 heartbeating every 5 s sends 200/s,
 * and after a power cut re-registers them all at once; 1 000/s and a burst of 300 registrations (then
 * 2/s) leave that room fivefold and threefold, while one /48 cycling /64s gets no more than that.
 */
export const DEFAULT_NODE_MESSAGE_LIMITS: NodeMessageLimitsConfig = {
  registrationsPerIp: { perSecond: 1, burst: 30 },
  heartbeatsPerIp: { perSecond: 200, burst: 1000 },
  registrationsPer48: { perSecond: 2, burst: 300 },
  heartbeatsPer48: { perSecond: 1000, burst: 5000 },
  registrationsPerNode: { perSecond: 1 / 10, burst: 5 },
  heartbeatsPerNodePerInterval: 2,
};

/** Buckets kept per kind; past this the least recently used is dropped (a fresh, full bucket is the cost). */
const MAX_BUCKETS = 100_000;
/** Of an unparsable address, this much is quoted in a refusal. */
const QUOTED_ADDRESS_CHARS = 60;

interface Charge {
  buckets: Buckets;
  key: string;
  tokens: number;
  what: string;
}

class Buckets {
  readonly #state = new Map<string, { tokens: number; atMs: number }>();
  readonly limit: BucketLimit;
  constructor(limit: BucketLimit) {
    this.limit = limit;
  }

  /** Tokens the key holds now (a key never seen holds a full burst); reads only. */
  available(key: string, nowMs: number): number {
    const b = this.#state.get(key);
    return b
      ? Math.min(this.limit.burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.limit.perSecond)
      : this.limit.burst;
  }

  refusal(tokens: number, what: string): HexEdgeError {
    const retryAfterMs = Math.ceil(((1 - tokens) / this.limit.perSecond) * 1000);
    return new HexEdgeError(
      'RATE_LIMITED',
      `too many ${what} (limit ${this.limit.perSecond}/s, burst ${this.limit.burst}); retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryAfterMs },
    );
  }

  spend(key: string, tokens: number, nowMs: number): void {
    this.#state.delete(key);
    this.#state.set(key, { tokens: tokens - 1, atMs: nowMs });
    trimOldest(this.#state, MAX_BUCKETS);
  }

  take(key: string, nowMs: number, what: string): void {
    takeAll([{ buckets: this, key, tokens: this.available(key, nowMs), what }], nowMs);
  }
}

/** One token from each bucket, or none at all: a refusal by one spends nothing of the others. */
function takeAll(charges: Charge[], nowMs: number): void {
  for (const c of charges) if (c.tokens < 1) throw c.buckets.refusal(c.tokens, c.what);
  for (const c of charges) c.buckets.spend(c.key, c.tokens, nowMs);
}

const looser = (a: BucketLimit, b: BucketLimit): BucketLimit => ({
  perSecond: Math.max(a.perSecond, b.perSecond),
  burst: Math.max(a.burst, b.burst),
});

/** How a refusal names the source: the IPv4 address or /64, or what was unparsable. */
function sourceLabel(source: ClientSource, address: string | undefined): string {
  if (source.key === 'unknown') return 'an unknown address';
  if (source.key === 'unparsed')
    return `unparsed addresses (this one ${JSON.stringify(String(address).slice(0, QUOTED_ADDRESS_CHARS))})`;
  return source.key;
}

/**
 * What the node routes ask before reading a message: throws (or rejects with) HexEdgeError
 * RATE_LIMITED when the client's source is over its allowance. NodeMessageLimits answers at once (one
 * process); the Worker asks the source's Durable Object (objects/source-limits.ts), so it may await.
 */
export interface SourceLimiter {
  checkIp(ip: string | undefined, kind: 'registration' | 'heartbeat'): void | Promise<void>;
}

/** Registration and heartbeat rate limits, per client source (IPv4, IPv6 /64 and /48) and per node id (see NodeMessageLimitsConfig). */
export class NodeMessageLimits implements SourceLimiter {
  readonly #sourceBuckets: Record<'registration' | 'heartbeat', { narrow: Buckets; wide: Buckets }>;
  readonly #nodeRegistrations: Buckets;
  readonly #nodeHeartbeats: Buckets;
  readonly #now: () => number;

  constructor(options: {
    heartbeatIntervalMs: number;
    config?: Partial<NodeMessageLimitsConfig>;
    now?: () => number;
  }) {
    const c = { ...DEFAULT_NODE_MESSAGE_LIMITS, ...options.config };
    this.#now = options.now ?? Date.now;
    this.#sourceBuckets = {
      registration: {
        narrow: new Buckets(c.registrationsPerIp),
        wide: new Buckets(looser(c.registrationsPer48, c.registrationsPerIp)),
      },
      heartbeat: {
        narrow: new Buckets(c.heartbeatsPerIp),
        wide: new Buckets(looser(c.heartbeatsPer48, c.heartbeatsPerIp)),
      },
    };
    this.#nodeRegistrations = new Buckets(c.registrationsPerNode);
    const perSecond = (c.heartbeatsPerNodePerInterval * 1000) / options.heartbeatIntervalMs;
    this.#nodeHeartbeats = new Buckets({ perSecond, burst: Math.max(5, Math.ceil(perSecond * 10)) });
  }

  /**
   * Before anything else is done with the message. The address is counted as its source (an IPv4
   * address, IPv4-mapped ones included, or an IPv6 /64, and its /48 too); a missing address counts
   * under "unknown", an unparsable one under "unparsed", so invented strings buy no fresh bucket.
   */
  checkIp(ip: string | undefined, kind: 'registration' | 'heartbeat'): void {
    const { narrow, wide } = this.#sourceBuckets[kind];
    const source = clientSourceOf(ip);
    const nowMs = this.#now();
    const charges: Charge[] = [];
    // The /48 first: once it is spent, rotating /64s inside it makes no new entries either.
    if (source.prefix48 !== undefined)
      charges.push({
        buckets: wide,
        key: source.prefix48,
        tokens: wide.available(source.prefix48, nowMs),
        what: `${kind}s from ${source.prefix48}`,
      });
    charges.push({
      buckets: narrow,
      key: source.key,
      tokens: narrow.available(source.key, nowMs),
      what: `${kind}s from ${sourceLabel(source, ip)}`,
    });
    takeAll(charges, nowMs);
  }

  /** Once the message's signature holds, before it is written: the registry's `admit` hook. */
  admit = (message: { nodeId: string; kind: 'registration' | 'heartbeat' }): void => {
    const buckets = message.kind === 'registration' ? this.#nodeRegistrations : this.#nodeHeartbeats;
    buckets.take(message.nodeId, this.#now(), `${message.kind}s from node ${message.nodeId}`);
  };
}
