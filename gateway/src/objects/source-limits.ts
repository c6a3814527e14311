import { DurableObject } from 'cloudflare:workers';
import { asResult, unwrap, type ShardResult } from '@hexedge/placement/shards';
import { clientSourceOf } from '../routes/client-source.ts';
import {
  DEFAULT_NODE_MESSAGE_LIMITS,
  NodeMessageLimits,
  type NodeMessageLimitsConfig,
  type SourceLimiter,
} from '../routes/node-message-limits.ts';

/** The vars (wrangler.jsonc) that tune the per-source limits; absent ones keep the defaults of node-message-limits.ts. */
export interface SourceLimitsEnv {
  HEARTBEAT_INTERVAL_MS?: string;
  /** Registrations per source (IPv4 address or IPv6 /64) per minute once its burst is spent. */
  REGISTRATIONS_PER_SOURCE_PER_MINUTE?: string;
  REGISTRATION_BURST_PER_SOURCE?: string;
  /** Heartbeats per source per second; the burst is five seconds' worth, as on Node. */
  HEARTBEATS_PER_SOURCE_PER_SECOND?: string;
}

const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/** A var that must be a positive number: a wrong one fails loudly rather than lifting the limit. */
function positive(env: SourceLimitsEnv, name: keyof SourceLimitsEnv): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

/** The per-source part of NodeMessageLimitsConfig from the Worker's vars; the /48 limits keep their defaults (raised to these where lower). */
export function sourceLimitsConfigOf(env: SourceLimitsEnv): Partial<NodeMessageLimitsConfig> {
  const perMinute = positive(env, 'REGISTRATIONS_PER_SOURCE_PER_MINUTE');
  const burst = positive(env, 'REGISTRATION_BURST_PER_SOURCE');
  const heartbeatsPerSecond = positive(env, 'HEARTBEATS_PER_SOURCE_PER_SECOND');
  const registrations = DEFAULT_NODE_MESSAGE_LIMITS.registrationsPerIp;
  return {
    registrationsPerIp: {
      perSecond: perMinute !== undefined ? perMinute / 60 : registrations.perSecond,
      burst: burst ?? registrations.burst,
    },
    ...(heartbeatsPerSecond !== undefined
      ? { heartbeatsPerIp: { perSecond: heartbeatsPerSecond, burst: Math.ceil(heartbeatsPerSecond * 5) } }
      : {}),
  };
}

/**
 * The object a client address is counted in: its IPv6 /48 (which holds the /48's bucket and those of
 * every /64 inside it, so both are taken in one step, all or nothing, as on Node), else its IPv4
 * address, else "unknown" / "unparsed" (one object each: invented strings buy no fresh one).
 */
export const sourceObjectName = (ip: string | undefined): string => {
  const source = clientSourceOf(ip);
  return source.prefix48 ?? source.key;
};

/**
 * One client source's registration and heartbeat buckets (named by sourceObjectName), shared by every
 * isolate of the deployment. The same NodeMessageLimits as on Node, in memory: calls run one at a time,
 * so a take reads and spends with nothing in between. Buckets are not written to storage: an object
 * is evicted only after it has been idle a while, and an idle source's buckets would have refilled by
 * then anyway (30 registrations at 1/s take 30 s), so a restart gives away at most one burst.
 */
export class SourceLimits extends DurableObject<SourceLimitsEnv> {
  readonly #limits: NodeMessageLimits;

  constructor(ctx: DurableObjectState, env: SourceLimitsEnv) {
    super(ctx, env);
    this.#limits = new NodeMessageLimits({
      heartbeatIntervalMs: Number(env.HEARTBEAT_INTERVAL_MS ?? DEFAULT_HEARTBEAT_INTERVAL_MS),
      config: sourceLimitsConfigOf(env),
    });
  }

  /** Spends one token of the address's source (and /48) or refuses, as NodeMessageLimits.checkIp. */
  async check(ip: string | undefined, kind: 'registration' | 'heartbeat'): Promise<ShardResult<void>> {
    return asResult(() => this.#limits.checkIp(ip, kind));
  }
}

/** The Worker's SourceLimiter: asks the source's object; its RATE_LIMITED refusal comes back as on Node (same text, Retry-After). */
export function durableSourceLimits(objects: DurableObjectNamespace<SourceLimits>): SourceLimiter {
  return {
    checkIp: async (ip, kind) => {
      const stub = objects.get(objects.idFromName(sourceObjectName(ip)));
      unwrap(await stub.check(ip, kind));
    },
  };
}
