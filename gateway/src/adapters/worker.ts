// The gateway on Cloudflare Workers: the same hono app as on Node (createGatewayApp), with placement
// in H3-sharded Durable Objects and API keys in Durable Objects, reached over RPC. Exports the
// Durable Object classes wrangler binds.
import {
  DIRECTORY_NONCES_NAME,
  DIRECTORY_SEQS_NAME,
  durableShardNetwork,
  PlacementDirectory,
  SHARD_RESOLUTION,
  ShardedPlacement,
  type PlacementShardEnv,
} from '@hexedge/placement/worker';
import { MAX_RERUN_AGE_MS, NODE_ID_PATTERN } from '@hexedge/protocol';
import { createGatewayApp } from '../app.ts';
import { requireApiKey } from '../auth.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { mount } from '../openapi/mount.ts';
import { placementShardsRoute } from '../openapi/service-routes.ts';
import { ApiKeyDirectory, ApiKeyVault } from '../objects/api-keys.ts';
import { DurableKeyStore } from '../objects/durable-key-store.ts';
import { durableKeyObjects } from '../objects/key-objects.ts';
import { NodeLimitedPlacementShard as PlacementShard } from '../objects/node-limited-shard.ts';
import { durableSourceLimits, SourceLimits, type SourceLimitsEnv } from '../objects/source-limits.ts';
import { ReceiptForwarder } from '../oracle-forwarder.ts';
import { gatewayKeyFromSecret } from './worker-gateway-key.ts';
import { WorkerReportFlusher } from './worker-reports.ts';

export { ApiKeyDirectory, ApiKeyVault, PlacementDirectory, PlacementShard, SourceLimits };

export interface GatewayWorkerEnv extends PlacementShardEnv, SourceLimitsEnv {
  /** One object per API key (named by its SHA-256): record, token bucket, daily count. */
  API_KEYS: DurableObjectNamespace<ApiKeyVault>;
  /** Keys by id, for listing and revoking. */
  KEY_DIRECTORY: DurableObjectNamespace<ApiKeyDirectory>;
  /** One object per client source (IPv4 address or IPv6 /48): node registration and heartbeat buckets. */
  SOURCE_LIMITS: DurableObjectNamespace<SourceLimits>;
  /** The admin API key (a secret), adopted into API_KEYS once. Without it (and no key made with it) every authenticated endpoint answers 401. */
  HEXEDGE_API_KEY?: string;
  /**
   * The gateway's Ed25519 key (a secret): a Node gateway's report-key.json as is (worker-gateway-key.ts).
   * With it the Worker publishes GET /v1/gateway/identity and signs its forwards, as nodes that check
   * their callers require; without it forwards go unsigned and such nodes refuse them.
   */
  HEXEDGE_GATEWAY_KEY?: string;
  /** "true" accepts node URLs at loopback and private addresses (local development and tests only; node-urls.ts). */
  ALLOW_PRIVATE_NODE_ADDRESSES?: string;
  /**
   * The coverage oracle that answered inferences are reported to (signed by HEXEDGE_GATEWAY_KEY, so it
   * needs that secret; the oracle lists this gateway's URL and learns the key from its identity).
   * Empty: none (nodes then earn no work credit for answers routed here).
   */
  ORACLE_URL?: string;
  /**
   * Node ids of the oracles whose signed trust pushes (POST /v1/oracle/trust) this gateway applies and
   * whose spot-check re-runs (POST /v1/oracle/rerun) it forwards to its nodes as live traffic,
   * comma-separated; needs ORACLE_URL. Each push's entries go to the shards of its nodes; the last
   * applied seq per oracle is kept in the directory (DIRECTORY_SEQS_NAME). Empty: no trust pushes, and
   * nodes stay on probation with their claims unverified (unless ASSUME_LOCATIONS_VERIFIED).
   */
  ORACLE_IDS?: string;
  SHARD_MAP_TTL_MS?: string;
  /** How long an isolate reuses a key record it looked up, ms; revocation is checked in the key's object on every request regardless. */
  KEY_CACHE_TTL_MS?: string;
  /** "eu" pins shards of EU cells to the EU jurisdiction; "" turns pinning off (local workerd lacks it). */
  PIN_JURISDICTIONS?: string;
}

export function shardNetworkOf(env: GatewayWorkerEnv) {
  return durableShardNetwork({
    shards: env.SHARDS,
    directory: env.DIRECTORY,
    pinJurisdictions: env.PIN_JURISDICTIONS === 'eu',
  });
}

export function keyStoreOf(env: GatewayWorkerEnv) {
  return new DurableKeyStore({
    objects: durableKeyObjects({ vaults: env.API_KEYS, directory: env.KEY_DIRECTORY }),
    ...(env.KEY_CACHE_TTL_MS ? { cacheTtlMs: Number(env.KEY_CACHE_TTL_MS) } : {}),
  });
}

/** ORACLE_IDS as node ids; a malformed one, or ids without ORACLE_URL, refuses the start naming it. */
function oracleIdsOf(env: GatewayWorkerEnv): string[] {
  const ids = (env.ORACLE_IDS ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const bad = ids.find((id) => !NODE_ID_PATTERN.test(id));
  if (bad !== undefined)
    throw new Error(`ORACLE_IDS: ${JSON.stringify(bad)} is not a node id (43 base64url characters)`);
  if (ids.length > 0 && !env.ORACLE_URL) throw new Error('ORACLE_IDS is set but ORACLE_URL is not');
  return ids;
}

/** Builds the app once per isolate: the usage book and the shard map and key caches live as long as it. */
async function buildGateway(env: GatewayWorkerEnv) {
  const gatewayKey = env.HEXEDGE_GATEWAY_KEY
    ? await gatewayKeyFromSecret(env.HEXEDGE_GATEWAY_KEY)
    : undefined;
  if (!gatewayKey)
    console.log(
      JSON.stringify({
        level: 'warn',
        msg: 'no HEXEDGE_GATEWAY_KEY secret: forwards go unsigned and GET /v1/gateway/identity is not served, so edge nodes that check their callers refuse this gateway',
      }),
    );
  const network = shardNetworkOf(env);
  const placement = new ShardedPlacement({
    network,
    ...(env.SHARD_MAP_TTL_MS ? { mapTtlMs: Number(env.SHARD_MAP_TTL_MS) } : {}),
  });
  const store = keyStoreOf(env);
  const keys = new KeyRing({ store });
  const log = (msg: string) => console.log(JSON.stringify({ level: 'warn', msg }));
  if (env.ORACLE_URL && !gatewayKey)
    throw new Error(
      'ORACLE_URL is set but HEXEDGE_GATEWAY_KEY is not: receipt reports must be signed by the gateway key',
    );
  const oracleIds = oracleIdsOf(env);
  const forwarder =
    env.ORACLE_URL && gatewayKey
      ? new ReceiptForwarder({ oracleUrl: env.ORACLE_URL, keys: gatewayKey, log })
      : undefined;
  const { app, limiter } = createGatewayApp({
    placement,
    keys,
    limiter: store.limiter,
    // Before any parsing or signature work, per client source, in the source's object (one allowance
    // for all isolates). Cloudflare's edge sets CF-Connecting-IP to the connecting peer, overwriting
    // whatever the client sent, so a client cannot pick its own source through Cloudflare.
    nodeMessageLimits: durableSourceLimits(env.SOURCE_LIMITS),
    clientIp: (c) => c.req.header('cf-connecting-ip'),
    log: (entry) => entry.level !== 'info' && console.log(JSON.stringify(entry)),
    ...(gatewayKey ? { reporterId: gatewayKey.nodeId, forwardKeys: gatewayKey } : {}),
    nodeUrls: { allowPrivate: env.ALLOW_PRIVATE_NODE_ADDRESSES === 'true' },
    ...(forwarder ? { onAnswered: forwarder.onAnswered, onNodeFault: forwarder.onNodeFault } : {}),
    ...(env.ORACLE_URL && oracleIds.length > 0
      ? {
          oracle: { url: env.ORACLE_URL, oracleIds },
          trustSink: placement,
          trustSeqs: {
            advance: (sender: string, seq: number) =>
              network.directory(DIRECTORY_SEQS_NAME).advanceSeq(sender, seq),
          },
          assumeLocationsVerified: env.ASSUME_LOCATIONS_VERIFIED === 'true',
          reruns: {
            nodeOf: async (id: string) => (await placement.getNode(id))?.node,
            nonces: {
              claim: (nonce: string, nowMs: number) =>
                network.directory(DIRECTORY_NONCES_NAME).claimNonce(nonce, nowMs, MAX_RERUN_AGE_MS),
            },
          },
        }
      : {}),
  });
  // How the sharded search behaves in this isolate: shard count and the share of multi-shard queries.
  // Metered (admin keys' limits are high) so a revoked key is refused here as on every other route.
  mount(app, placementShardsRoute, requireApiKey({ keys, limiter, role: 'admin' }), async (c) =>
    c.json({
      resolution: SHARD_RESOLUTION,
      shards: (await placement.shards({ refresh: true })).length,
      ...placement.stats,
    }),
  );
  return { app, keys, reports: forwarder && new WorkerReportFlusher(forwarder) };
}

// wrangler.jsonc's bindings, as `wrangler types` wrote them (worker-configuration.d.ts), are what this code needs.
const _bindingsMatch = (env: Env): GatewayWorkerEnv => env;

let gateway: Promise<Awaited<ReturnType<typeof buildGateway>>> | undefined;
let adopted: Promise<unknown> | undefined;

/**
 * The admin secret goes into its key's object once per isolate; the object keeps the first record, so
 * this is idempotent across isolates and never lifts a revocation. A failed attempt is retried by the
 * next request instead of failing the isolate for good.
 */
function adoptAdminKey(env: GatewayWorkerEnv, keys: KeyRing): Promise<unknown> {
  if (!env.HEXEDGE_API_KEY) return Promise.resolve();
  adopted ??= keys
    .adopt(env.HEXEDGE_API_KEY, { name: 'worker admin', role: 'admin' })
    .catch((err: unknown) => {
      adopted = undefined;
      throw err;
    });
  return adopted;
}

/** A gateway that cannot be built (a malformed secret) answers every request with why, as a 500. */
function unbuilt(err: unknown): Response {
  const message = `this gateway is misconfigured: ${(err as Error).message}`;
  return Response.json({ error: { code: 'INTERNAL', message } }, { status: 500 });
}

export default {
  async fetch(request, env, ctx) {
    gateway ??= buildGateway(env);
    let built: Awaited<typeof gateway>;
    try {
      built = await gateway;
    } catch (err) {
      return unbuilt(err);
    }
    await adoptAdminKey(env, built.keys);
    const response = await built.app.fetch(request, env, ctx);
    built.reports?.afterRequest(ctx);
    return response;
  },
} satisfies ExportedHandler<GatewayWorkerEnv>;
