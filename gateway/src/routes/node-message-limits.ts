import { trimOldest } from '@hexedge/protocol';
import { HexEdgeError } from '@hexedge/protocol';

/** Token bucket limits, in messages per second with a burst. */
export interface BucketLimit {
  perSecond: number;
  burst: number;
}

/**
 * How often registrations and heartbeats are taken. Per IP (checked first, before any signature
 * work): registrations are rare (a node restarting), heartbeats come every few seconds from each node
 * behind the address (one data centre may hold hundreds). Per node (checked once the signature holds,
 * so nobody can spend an honest node's allowance): a few registrations a minute, heartbeats at about
 * twice the interval's pace.
 */
export interface NodeMessageLimitsConfig {
  registrationsPerIp: BucketLimit;
  heartbeatsPerIp: BucketLimit;
  registrationsPerNode: BucketLimit;
  /** Multiples of the heartbeat interval's rate: 2 = twice the expected pace. */
  heartbeatsPerNodePerInterval: number;
}

export const DEFAULT_NODE_MESSAGE_LIMITS: NodeMessageLimitsConfig = {
  registrationsPerIp: { perSecond: 1, burst: 30 },
  heartbeatsPerIp: { perSecond: 200, burst: 1000 },
  registrationsPerNode: { perSecond: 1 / 10, burst: 5 },
  heartbeatsPerNodePerInterval: 2,
};

/** Buckets kept per kind; past this the least recently used is dropped (a fresh, full bucket is the cost). */
const MAX_BUCKETS = 100_000;

class Buckets {
  readonly #state = new Map<string, { tokens: number; atMs: number }>();
  readonly limit: BucketLimit;
  constructor(limit: BucketLimit) {
    this.limit = limit;
  }

  take(key: string, nowMs: number, what: string): void {
    const b = this.#state.get(key);
    const tokens = b
      ? Math.min(this.limit.burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.limit.perSecond)
      : this.limit.burst;
    if (tokens < 1) {
      const retryAfterMs = Math.ceil(((1 - tokens) / this.limit.perSecond) * 1000);
      throw new HexEdgeError(
        'RATE_LIMITED',
        `too many ${what} (limit ${this.limit.perSecond}/s, burst ${this.limit.burst}); retry in ${Math.ceil(retryAfterMs / 1000)} s`,
        { retryAfterMs },
      );
    }
    this.#state.delete(key);
    this.#state.set(key, { tokens: tokens - 1, atMs: nowMs });
    trimOldest(this.#state, MAX_BUCKETS);
  }
}

/** Registration and heartbeat rate limits, per client IP and per node id (see NodeMessageLimitsConfig). */
export class NodeMessageLimits {
  readonly #ipRegistrations: Buckets;
  readonly #ipHeartbeats: Buckets;
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
    this.#ipRegistrations = new Buckets(c.registrationsPerIp);
    this.#ipHeartbeats = new Buckets(c.heartbeatsPerIp);
    this.#nodeRegistrations = new Buckets(c.registrationsPerNode);
    const perSecond = (c.heartbeatsPerNodePerInterval * 1000) / options.heartbeatIntervalMs;
    this.#nodeHeartbeats = new Buckets({ perSecond, burst: Math.max(5, Math.ceil(perSecond * 10)) });
  }

  /** Before anything else is done with the message (an unknown address counts under "unknown"). */
  checkIp(ip: string | undefined, kind: 'registration' | 'heartbeat'): void {
    const buckets = kind === 'registration' ? this.#ipRegistrations : this.#ipHeartbeats;
    buckets.take(ip ?? 'unknown', this.#now(), `${kind}s from ${ip ?? 'this address'}`);
  }

  /** Once the message's signature holds, before it is written: the registry's `admit` hook. */
  admit = (message: { nodeId: string; kind: 'registration' | 'heartbeat' }): void => {
    const buckets = message.kind === 'registration' ? this.#nodeRegistrations : this.#nodeHeartbeats;
    buckets.take(message.nodeId, this.#now(), `${message.kind}s from node ${message.nodeId}`);
  };
}
