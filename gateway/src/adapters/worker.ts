// The gateway on Cloudflare Workers: the same hono app as on Node (createGatewayApp), with placement
// in H3-sharded Durable Objects reached over RPC. Exports the Durable Object classes wrangler binds.
import { durableShardNetwork, PlacementDirectory, PlacementShard, SHARD_RESOLUTION, ShardedPlacement, type PlacementShardEnv } from '@hexedge/placement/worker';
import { createGatewayApp } from '../app.ts';
import { requireApiKey } from '../auth.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { MemoryKeyStore } from '../keys/key-store.ts';

export { PlacementDirectory, PlacementShard };

export interface GatewayWorkerEnv extends PlacementShardEnv {
  /** The admin API key (a secret). Without it every authenticated endpoint answers 401. */
  HEXEDGE_API_KEY?: string;
  SHARD_MAP_TTL_MS?: string;
  /** "eu" pins shards of EU cells to the EU jurisdiction; "" turns pinning off (local workerd lacks it). */
  PIN_JURISDICTIONS?: string;
}

export function shardNetworkOf(env: GatewayWorkerEnv) {
  return durableShardNetwork({ shards: env.SHARDS, directory: env.DIRECTORY, pinJurisdictions: env.PIN_JURISDICTIONS === 'eu' });
}

/** Builds the app once per isolate: keys, limiter, usage and the shard map cache live as long as it. */
function buildGateway(env: GatewayWorkerEnv) {
  const placement = new ShardedPlacement({ network: shardNetworkOf(env), ...(env.SHARD_MAP_TTL_MS ? { mapTtlMs: Number(env.SHARD_MAP_TTL_MS) } : {}) });
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  const adopted = env.HEXEDGE_API_KEY ? keys.adopt(env.HEXEDGE_API_KEY, { name: 'worker admin', role: 'admin' }) : Promise.resolve();
  const { app, limiter } = createGatewayApp({
    placement,
    keys,
    log: (entry) => entry.level !== 'info' && console.log(JSON.stringify(entry)),
  });
  // How the sharded search behaves in this isolate: shard count and the share of multi-shard queries.
  app.get('/v1/placement/shards', requireApiKey({ keys, limiter, role: 'admin', metered: false }), async (c) =>
    c.json({ resolution: SHARD_RESOLUTION, shards: (await placement.shards({ refresh: true })).length, ...placement.stats }),
  );
  return { app, placement, adopted };
}

// wrangler.jsonc's bindings, as `wrangler types` wrote them (worker-configuration.d.ts), are what this code needs.
const _bindingsMatch = (env: Env): GatewayWorkerEnv => env;

let gateway: ReturnType<typeof buildGateway> | undefined;

export default {
  async fetch(request, env, ctx) {
    gateway ??= buildGateway(env);
    await gateway.adopted;
    return gateway.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<GatewayWorkerEnv>;
