import { createGatewayApp, KeyRing, MemoryKeyStore } from '@hexedge/gateway';
import { PooledNodeClient, startEmbeddedBroker } from '@hexedge/gateway/node';
import { Placement } from '@hexedge/placement';
import { SqliteNodeStore } from '@hexedge/placement/node';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DEV_CITIES } from '../cities.ts';
import type { DevConfig } from '../config/dev-config.ts';
import { listenHttp } from '../listen-http.ts';
import { loadNodeKey, NODE_KEY_FILE } from '../node-keys.ts';
import { buildDevModels, readCatalog } from './dev-models.ts';
import { nodeInit } from './node-init.ts';
import { spawnNode, type NodeProcess } from './node-process.ts';

/** How long `hexedge dev` waits for every node to register before giving up. */
const NODES_READY_TIMEOUT_MS = 60_000;

/**
 * `hexedge dev`: the whole fabric on one machine. Broker, gateway with placement in-process, and N edge
 * nodes as separate processes (each with its own key, in its own city) that register over HTTP exactly
 * as remote nodes do. Returns a stop function that shuts everything down in reverse order.
 */
export async function dev(config: DevConfig, log: (message: string) => void): Promise<{ stop: () => Promise<void>; readyLine: string }> {
  const stack: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of stack.reverse()) await close().catch((err: Error) => log(`shutdown: ${err.message}`));
    stack.length = 0;
  };
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const modelsDir = path.join(config.dataDir, 'models');
    const built = await buildDevModels(modelsDir, log);
    log(`models in ${modelsDir}: ${built.join(', ')}`);

    const broker = await startEmbeddedBroker({ port: config.mqttPort, host: config.host });
    stack.push(() => broker.close());

    let ready = false;
    // No oracle runs in `hexedge dev` yet, so the nodes' location claims are taken as verified.
    // Registrations, sequence numbers, trust and demand survive a restart of `hexedge dev`.
    const store = new SqliteNodeStore({ path: path.join(config.dataDir, 'placement.sqlite') });
    stack.push(async () => store.close());
    const placement = new Placement({ heartbeatIntervalMs: config.heartbeatMs, assumeLocationsVerified: true, store });
    stack.push(async () => placement.checkpoint());
    const keys = new KeyRing({ store: new MemoryKeyStore() });
    await keys.adopt(config.apiKey, { name: 'hexedge dev admin', role: 'admin' });
    const catalog = await readCatalog(modelsDir);
    const nodeClient = new PooledNodeClient();
    stack.push(() => nodeClient.close());
    const { app } = createGatewayApp({ placement, keys, catalog, nodeClient, isReady: () => ready, log: (entry) => entry.level !== 'info' && log(`gateway: ${JSON.stringify(entry)}`) });
    const gateway = await listenHttp({ app, port: config.port, host: config.host });
    stack.push(() => gateway.close());

    const nodes: NodeProcess[] = [];
    const nodeIds = new Set<string>();
    const startedAtMs = Date.now();
    for (const city of DEV_CITIES.slice(0, config.nodes)) {
      const dataDir = path.join(config.dataDir, 'nodes', city.name);
      if (!existsSync(path.join(dataDir, NODE_KEY_FILE))) await nodeInit({ dataDir, lat: city.lat, lng: city.lng, gatewayUrl: gateway.url });
      nodeIds.add((await loadNodeKey(dataDir)).nodeId);
      const node = spawnNode({ name: city.name, dataDir, gatewayUrl: gateway.url, modelsDir, log });
      nodes.push(node);
      stack.push(() => node.stop());
    }

    const deadline = Date.now() + NODES_READY_TIMEOUT_MS;
    // Nodes restored from the store are not proof of life: wait for a registration from this run.
    const registeredNow = () => [...nodeIds].filter((id) => (placement.registry.get(id)?.lastRegistrationIssuedAtMs ?? 0) >= startedAtMs).length;
    while (registeredNow() < config.nodes) {
      const dead = nodes.find((n) => n.exited);
      if (dead) throw new Error(`edge node ${dead.name} exited during start-up (see its log lines above)`);
      if (Date.now() > deadline) throw new Error(`only ${registeredNow()} of ${config.nodes} nodes registered within ${NODES_READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ready = true;
    const readyLine = `hexedge dev ready: gateway ${gateway.url} mqtt ${broker.url} api-key ${config.apiKey} nodes ${config.nodes} data-dir ${config.dataDir}`;
    return { stop, readyLine };
  } catch (err) {
    await stop();
    throw err;
  }
}
