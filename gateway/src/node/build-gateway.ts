import { Lifecycle } from '@hexedge/protocol';
import { getConnInfo } from '@hono/node-server/conninfo';
import { lookup } from 'node:dns/promises';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createGatewayApp } from '../app.ts';
import type { PartState } from '../app/options.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../adapters/mqtt-broker.ts';
import { nodeSha256Hex } from '../adapters/node-hash.ts';
import { CoalescingNodeClient } from '../adapters/coalescing-node-client.ts';
import { PooledNodeClient } from '../adapters/pooled-node-client.ts';
import { SqliteKeyStore } from '../adapters/sqlite-key-store.ts';
import { SqliteSeqStore } from '../adapters/sqlite-seq-store.ts';
import type { GatewayConfig, GatewaySecrets } from '../config.ts';
import { EventBus } from '../events/event-bus.ts';
import { KeyRing } from '../keys/key-ring.ts';
import type { ReceiptForwarder } from '../oracle-forwarder.ts';
import { httpOracleReader } from '../routes/oracle.ts';
import { dirAssets } from './dir-assets.ts';
import { registerForwarderMetrics } from './forwarder-metrics.ts';
import { GatewayMetrics } from './metrics.ts';
import { InferCache } from '../cache/infer-cache.ts';
import { describeEd25519Engine, useNodeEd25519 } from '@hexedge/protocol/node';
import { listenGateway } from './infer-listener.ts';
import { readOriginCatalog } from './origin-catalog.ts';
import { openDevices } from './device-wiring.ts';
import { startMqttIngresses } from './mqtt-wiring.ts';
import { openPlacement } from './placement-wiring.ts';
import { startReporting } from './report-wiring.ts';
import { startRollouts } from './rollout-wiring.ts';

/** Every address a node's host name resolves to (the URL policy refuses the name if any is private). */
const resolveAll = async (hostname: string) => (await lookup(hostname, { all: true })).map((a) => a.address);

/** The key slot the configured admin key (HEXEDGE_ADMIN_KEY) fills. */
export const ADMIN_KEY_SLOT = 'configured-admin';

export { REPORT_KEY_FILE } from './report-wiring.ts';

export interface RunningGateway {
  url: string;
  /** The broker the gateway hosts (embeddedBroker), when configured. */
  brokerUrl?: string;
  /** The id (public key) of the gateway's report key: oracles accept forwarded receipts signed by it. */
  reporterId: string;
  /** The receipt forwarder's counters (absent without an oracle). */
  forwarding?: ReceiptForwarder['stats'];
  /** Settles once every part is closed (after the signal aborts, or `stop`). */
  closed: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The gateway deployable's one builder, used by `hexedge gateway`, `hexedge dev` and the tests: from a
 * parsed config it opens the state (placement, API keys, device registry and credentials in SQLite
 * under the data directory, so a restart loses no registration, key or device), the origin registry,
 * the HTTP API, the receipt forwarding to the oracle, the embedded broker when configured, the MQTT
 * request ingress and the firmware bridge on ChirpStack's topics. It is ready (`/healthz` 200) only
 * once every configured ingress is subscribed. The signal shuts everything down in reverse order.
 */
export async function buildGateway(
  config: GatewayConfig,
  secrets: GatewaySecrets,
  options: { signal: AbortSignal; log?: (line: string) => void },
): Promise<RunningGateway> {
  // Ed25519 through libsodium (else node:crypto) for every signature this process makes or checks.
  const ed25519 = useNodeEd25519();
  const log = options.log ?? (() => {});
  log(`gateway: ${describeEd25519Engine(ed25519)}`);
  const life = new Lifecycle({ signal: options.signal, log });
  return life.start(async () => {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const keyStore = new SqliteKeyStore({ path: path.join(config.dataDir, 'keys.sqlite') });
    life.defer('API keys', () => keyStore.close());
    const keys = new KeyRing({ store: keyStore, sha256: nodeSha256Hex });
    // The configured admin key fills one slot: a changed HEXEDGE_ADMIN_KEY revokes the previous one.
    const adminKey = await keys.adopt(secrets.adminKey, {
      name: 'gateway admin',
      role: 'admin',
      slot: ADMIN_KEY_SLOT,
      legacyName: 'gateway admin',
    });

    const { placement, nodeMessageLimits } = openPlacement({ config, life });
    const { limits } = config;

    const catalog = await readOriginCatalog({
      modelsDir: config.modelsDir ?? path.join(config.dataDir, 'models'),
      log,
    });
    const { registry, access } = openDevices({ config, keys, adminKey, life, log });
    const events = new EventBus();

    const { reportKey, forwarder } = await startReporting({ config, life, log });

    const trustSeqs = new SqliteSeqStore({ path: path.join(config.dataDir, 'oracle-trust.sqlite') });
    life.defer('trust push sequence', () => trustSeqs.close());

    const pooledClient = new PooledNodeClient({ allowPrivateAddresses: config.allowPrivateNodeAddresses });
    life.defer('node connections', () => pooledClient.close());
    // Concurrent forwards to one node coalesce into exchanges (coalescing-node-client.ts).
    const nodeClient = new CoalescingNodeClient({ client: pooledClient });
    const parts: Record<string, () => PartState> = {};
    const metrics = new GatewayMetrics();
    const inFlight: Record<string, () => number> = {};
    metrics.gauge({
      name: 'hexedge_gateway_mqtt_in_flight',
      help: 'MQTT messages being handled now, per ingress',
      labels: ['ingress'],
      read: () => Object.entries(inFlight).map(([ingress, read]) => ({ labels: { ingress }, value: read() })),
    });
    metrics.gauge({
      name: 'hexedge_gateway_nodes',
      help: 'Registered nodes by status',
      labels: ['status'],
      read: () => {
        const counts = new Map<string, number>([
          ['healthy', 0],
          ['unhealthy', 0],
          ['draining', 0],
        ]);
        for (const node of placement.registry.values()) {
          const status = placement.registry.statusOf(node);
          counts.set(status, (counts.get(status) ?? 0) + 1);
        }
        return [...counts].map(([status, value]) => ({ labels: { status }, value }));
      },
    });
    metrics.gauge({
      name: 'hexedge_gateway_probation_nodes',
      help: 'Registered nodes on probation (no oracle score yet), counted against limits.maxProbationNodes',
      read: () => [{ value: placement.probationNodeCount }],
    });
    const cache = config.cache.enabled
      ? new InferCache({
          limits: config.cache,
          sha256: nodeSha256Hex,
          onLookup: metrics.cacheLookup,
          onEvict: metrics.cacheEvicted,
        })
      : undefined;
    if (cache) {
      metrics.gauge({
        name: 'hexedge_gateway_cache_entries',
        help: 'Answers in the response cache',
        read: () => [{ value: cache.entries }],
      });
      metrics.gauge({
        name: 'hexedge_gateway_cache_bytes',
        help: 'Size of the answers in the response cache (JSON bytes)',
        read: () => [{ value: cache.bytes }],
      });
    }
    if (forwarder) registerForwarderMetrics(metrics, forwarder);
    const rollouts = startRollouts({ dataDir: config.dataDir, placement, catalog, metrics, life, log });
    let started = false;
    const { app, service, limiter } = createGatewayApp({
      ...(cache ? { cache } : {}),
      placement,
      keys,
      catalog,
      nodeClient,
      sha256: nodeSha256Hex,
      isReady: () => started,
      parts: () => Object.fromEntries(Object.entries(parts).map(([name, state]) => [name, state()])),
      reporterId: reportKey.keys.nodeId,
      siblingReporterIds: config.siblingReporterIds,
      forwardKeys: reportKey.keys,
      assumeLocationsVerified: config.assumeLocationsVerified,
      devices: registry,
      observer: metrics,
      metrics: { text: () => metrics.text(), contentType: metrics.contentType },
      nodeUrls: { allowPrivate: config.allowPrivateNodeAddresses, resolve: resolveAll },
      nodeMessageLimits,
      clientIp: (c) => getConnInfo(c).remote.address,
      inFlight: { maxTotal: limits.maxInFlight, maxPerCaller: limits.maxInFlightPerKey },
      log: (entry) => entry.level !== 'info' && log(JSON.stringify(entry)),
      ...(config.oracle ? { oracle: config.oracle } : {}),
      trustSeqs,
      rollouts,
      ...(forwarder ? { onAnswered: forwarder.onAnswered, onNodeFault: forwarder.onNodeFault } : {}),
      dashboard: {
        events,
        eventStreams: { max: limits.maxEventStreams, perClient: limits.maxEventStreamsPerClient },
        ...(config.dashboardDir ? { staticAssets: dirAssets(config.dashboardDir) } : {}),
        ...(config.oracle ? { oracle: httpOracleReader({ oracleUrl: config.oracle.url }) } : {}),
      },
    });

    let brokerUrl: string | undefined;
    let embeddedBroker: EmbeddedBroker | undefined;
    if (config.embeddedBroker) {
      const broker = await startEmbeddedBroker({ ...config.embeddedBroker, access });
      life.defer('embedded broker', () => broker.close());
      brokerUrl = broker.url;
      embeddedBroker = broker;
    }

    const http = await listenGateway({ app, port: config.port, host: config.host });
    life.defer('HTTP listener', () => http.close());

    if (config.mqtt) {
      await startMqttIngresses({
        mqtt: config.mqtt,
        secrets,
        brokerUrl,
        embeddedBroker,
        service,
        limiter,
        access,
        registry,
        events,
        life,
        parts,
        inFlight,
        log,
      });
    }
    started = true;
    return {
      url: http.url,
      ...(brokerUrl ? { brokerUrl } : {}),
      reporterId: reportKey.keys.nodeId,
      ...(forwarder ? { forwarding: forwarder.stats } : {}),
      closed: life.closed,
      stop: () => life.stop(),
    };
  });
}
