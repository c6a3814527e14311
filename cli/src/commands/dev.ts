import { BrokerAccess, createGatewayApp, DeviceCredentials, EventBus, KeyRing, MemoryKeyStore } from '@hexedge/gateway';
import { FileDeviceStore, nodeSha256Hex, PooledNodeClient, startEmbeddedBroker, startMqttIngress } from '@hexedge/gateway/node';
import { Placement } from '@hexedge/placement';
import { SqliteNodeStore } from '@hexedge/placement/node';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DEV_CITIES } from '../cities.ts';
import { dashboardAssets } from '../dashboard-assets.ts';
import type { DevConfig } from '../config/dev-config.ts';
import { listenHttp } from '../listen-http.ts';
import { loadNodeKey, NODE_KEY_FILE } from '../node-keys.ts';
import { openDevFleet, startDevLorawan } from './dev-lorawan.ts';
import { buildDevModels, readCatalog } from './dev-models.ts';
import { startDevOracle } from './dev-oracle.ts';
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

    const keys = new KeyRing({ store: new MemoryKeyStore(), sha256: nodeSha256Hex });
    await keys.adopt(config.apiKey, { name: 'hexedge dev admin', role: 'admin' });
    // MQTT clients log in: devices from `hexedge broker device add`, anyone else with an API key.
    const devices = new DeviceCredentials({ store: new FileDeviceStore(path.join(config.dataDir, 'devices.json')) });
    const access = new BrokerAccess({ devices, keys });
    const broker = await startEmbeddedBroker({ port: config.mqttPort, host: config.host, access });
    stack.push(() => broker.close());

    const oracle = await startDevOracle({ dataDir: config.dataDir, host: config.host, log });
    stack.push(() => oracle.stop());

    let ready = false;
    // Location proofs need nodes in real places; here every node shares one machine, so the cities
    // they claim are taken as verified (the oracle still spot-checks their answers).
    // Registrations, sequence numbers, trust and demand survive a restart of `hexedge dev`.
    const store = new SqliteNodeStore({ path: path.join(config.dataDir, 'placement.sqlite') });
    stack.push(async () => store.close());
    const placement = new Placement({ heartbeatIntervalMs: config.heartbeatMs, assumeLocationsVerified: true, store });
    stack.push(async () => placement.checkpoint());
    const catalog = await readCatalog(modelsDir);
    // LoRaWAN devices and profiles (the bridge's registry), and the bus the dashboards and the bridge share.
    const fleet = openDevFleet(config.dataDir, log);
    stack.push(() => fleet.close());
    const events = new EventBus();
    const nodeClient = new PooledNodeClient();
    stack.push(() => nodeClient.close());
    const { app, service, limiter } = createGatewayApp({ placement, keys, catalog, nodeClient, sha256: nodeSha256Hex, isReady: () => ready, log: (entry) => entry.level !== 'info' && log(`gateway: ${JSON.stringify(entry)}`), ...oracle.gateway, devices: fleet.registry, dashboard: { staticAssets: await dashboardAssets(log), oracle: oracle.reader, events } });
    const gateway = await listenHttp({ app, port: config.port, host: config.host });
    stack.push(() => gateway.close());
    oracle.addGatewayUrl(gateway.url);

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
    // aedes speaks MQTT 3.1.1 only and has no shared subscriptions: one v3.1.1 ingress, unshared.
    const ingress = await startMqttIngress({
      url: broker.url,
      clientId: 'hexedge-dev-gateway',
      username: 'hexedge-gateway',
      password: config.apiKey,
      protocolVersion: 4,
      shareGroup: false,
      service,
      limiter,
      principalOf: (clientId) => access.principalOf(clientId),
      log: (entry) => entry.level !== 'info' && log(`mqtt: ${JSON.stringify(entry)}`),
    });
    stack.push(() => ingress.close());
    // Pushed last, so stopped first: the simulator goes quiet before the bridge and broker close.
    const lorawan = await startDevLorawan({ brokerUrl: broker.url, apiKey: config.apiKey, registry: fleet.registry, service, limiter, events, simSpeed: config.simSpeed, log });
    stack.push(() => lorawan.stop());
    ready = true;
    const readyLine = `hexedge dev ready: gateway ${gateway.url} mqtt ${broker.url} api-key ${config.apiKey} nodes ${config.nodes} data-dir ${config.dataDir}`
      // The dashboard on a line of its own: tools parse the ready line's fields, which stay as they were.
      + `\nhexedge dev dashboard: ${gateway.url}/dashboard/`
      + `\nhexedge dev oracle: ${oracle.url}`
      + lorawan.line;
    return { stop, readyLine };
  } catch (err) {
    await stop();
    throw err;
  }
}
