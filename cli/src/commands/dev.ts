import { NODE_KEY_FILE, loadNodeKey } from '@hexedge/edge-node/node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { buildGateway } from '@hexedge/gateway/node';
import { Lifecycle } from '@hexedge/protocol';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DEV_CITIES } from '../cities.ts';
import type { Command } from '../command.ts';
import { devConfigSchema, type DevConfig } from '../config/dev-config.ts';
import { ensureDashboardBuilt } from '../dashboard-assets.ts';
import { numberFlag, parseFlags, portFlag } from '../flags.ts';
import { DEV_ADMIN_MQTT_USER, startDevBroker } from './dev-broker.ts';
import { startDevSimulator } from './dev-lorawan.ts';
import { buildDevModels } from './dev-models.ts';
import { startOracleProcess } from './dev-oracle.ts';
import { nodeInit } from './node-init.ts';
import { spawnNode, type NodeProcess } from './node-process.ts';

/** How long `hexedge dev` waits for every node to register before giving up. */
const NODES_READY_TIMEOUT_MS = 60_000;

/** Where `hexedge dev` keeps each part's state under its data directory. */
export const devPaths = (dataDir: string) => ({
  models: path.join(dataDir, 'models'),
  gateway: path.join(dataDir, 'gateway'),
  oracle: path.join(dataDir, 'oracle'),
  broker: path.join(dataDir, 'mosquitto'),
  node: (city: string) => path.join(dataDir, 'nodes', city),
});

/**
 * `hexedge dev`: the whole fabric on one machine, from the same builders the standalone commands use —
 * the oracle (`hexedge oracle`'s builder, in a process of its own: dev-oracle.ts, so its ingest and
 * scoring never share the gateway's event loop), the broker (Mosquitto as a child process configured by
 * `hexedge broker acl`'s files; the gateway's embedded aedes broker where Mosquitto is missing), the
 * gateway with its MQTT ingress and firmware bridge (`hexedge gateway`'s), and N edge nodes as separate
 * `hexedge node run` processes, each with its own key in its own city, registering over HTTP exactly as
 * remote nodes do. Only the configs are derived here. The signal stops everything in reverse order.
 */
export async function dev(
  config: DevConfig,
  options: { signal: AbortSignal; log: (line: string) => void },
): Promise<{ stop: () => Promise<void>; readyLine: string }> {
  const { log } = options;
  const life = new Lifecycle({ signal: options.signal, log });
  return life.start(async () => {
    const paths = devPaths(config.dataDir);
    // The parts are stopped by this lifecycle, in reverse order, not each by the signal at once.
    const owned = { signal: new AbortController().signal, log };
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const built = await buildDevModels(paths.models, log);
    log(`models in ${paths.models}: ${built.join(', ')}`);
    // `hexedge dev` waits for the dashboard on its first start (its ready line promises the page);
    // `hexedge gateway` builds it in the background instead, so a restart is never late for its backlog.
    const dashboardDir = await ensureDashboardBuilt(log).catch(
      (err: Error) => (log(`dashboard not available: ${err.message}`), undefined),
    );

    // Location proofs are off: every node shares this machine, so round trips say nothing about
    // their cities (a 1 ms round trip would make the other cities' claims look impossible). The
    // oracle still spot-checks answers; the gateway takes the claimed cities as verified.
    const oracle = await startOracleProcess(
      {
        host: config.host,
        port: 0,
        dataDir: paths.oracle,
        gatewayUrls: [],
        challengeIntervalMs: 0,
        directoryRefreshMs: 2_000,
        trustPushIntervalMs: 1_000,
        oracle: { samplingRate: 0.2, scoreIntervalMs: 2_000 },
      },
      // The referee re-runs every disputed spot check (no node here has stake, so none checks others).
      { log },
    );
    life.defer('oracle', () => oracle.stop());

    // Started before the gateway and deferred before it, so stopped after it: the ingress leaves first.
    const broker = await startDevBroker({
      choice: config.broker,
      dir: paths.broker,
      devicesFile: path.join(paths.gateway, 'devices.json'),
      host: config.host,
      port: config.mqttPort,
      adminKey: config.apiKey,
      log,
    });
    if (broker.kind === 'mosquitto') life.defer('Mosquitto', () => broker.stop());
    const dashboard = dashboardDir ? { dashboardDir } : {};
    const chirpstack = { clientId: 'hexedge-dev-bridge', seedDemoFleet: true };
    const brokerConfig =
      broker.kind === 'mosquitto'
        ? {
            mqtt: {
              url: broker.url,
              username: broker.gatewayLogin.username,
              clientId: 'hexedge-dev-gateway',
              protocolVersion: 5,
              shared: false,
              // Only devices (under their own ids) and full-access users may publish requests here: a
              // request under any other client id is the admin login's (README's mosquitto_rr -i my-app).
              fullAccessRequestsAsAdmin: true,
              chirpstack,
            },
          }
        : {
            // aedes speaks MQTT 3.1.1 only and has no shared subscriptions: v3.1.1 ingresses, unshared.
            embeddedBroker: { host: config.host, port: config.mqttPort },
            mqtt: { clientId: 'hexedge-dev-gateway', protocolVersion: 4, shared: false, chirpstack },
          };

    const gateway = await buildGateway(
      gatewayConfigSchema.parse({
        host: config.host,
        port: config.port,
        dataDir: paths.gateway,
        modelsDir: paths.models,
        heartbeatIntervalMs: config.heartbeatMs,
        assumeLocationsVerified: true,
        // The nodes are processes on this machine, registered at 127.0.0.1: private on purpose.
        allowPrivateNodeAddresses: true,
        ...dashboard,
        ...brokerConfig,
        oracle: { url: oracle.url, oracleIds: [oracle.oracleId] },
      }),
      {
        adminKey: config.apiKey,
        ...(broker.kind === 'mosquitto' ? { mqttPassword: broker.gatewayLogin.password } : {}),
      },
      owned,
    );
    const brokerUrl = broker.kind === 'mosquitto' ? broker.url : gateway.brokerUrl!;
    life.defer('gateway', () => gateway.stop());
    // Before any node or request: the oracle must know the gateway's report key before its first reports.
    await oracle.addGatewayUrl(gateway.url);

    const nodes: NodeProcess[] = [];
    for (const city of DEV_CITIES.slice(0, config.nodes)) {
      const dataDir = paths.node(city.name);
      if (!existsSync(path.join(dataDir, NODE_KEY_FILE)))
        await nodeInit({ dataDir, lat: city.lat, lng: city.lng, gatewayUrl: gateway.url });
      await loadNodeKey(dataDir);
      const node = spawnNode({
        name: city.name,
        dataDir,
        gatewayUrl: gateway.url,
        modelsDir: paths.models,
        log,
      });
      life.defer(`node ${city.name}`, () => node.stop());
      nodes.push(node);
    }
    await Promise.race([
      Promise.all(nodes.map((n) => n.registered)),
      new Promise((_, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `not every node registered within ${NODES_READY_TIMEOUT_MS} ms (see the node lines above)`,
              ),
            ),
          NODES_READY_TIMEOUT_MS,
        );
        life.defer('node wait', () => clearTimeout(timer));
        const watch = setInterval(() => {
          const dead = nodes.find((n) => n.exited);
          if (dead)
            reject(new Error(`edge node ${dead.name} exited during start-up (see its log lines above)`));
          if (broker.kind === 'mosquitto' && broker.exited)
            reject(new Error('Mosquitto exited during start-up (see its [mosquitto] lines above)'));
        }, 100);
        life.defer('node watch', () => clearInterval(watch));
      }),
    ]);
    // Deferred last, so stopped first: the simulator goes quiet before the gateway's bridge and broker close.
    const simulator = await startDevSimulator({
      brokerUrl,
      login: { username: DEV_ADMIN_MQTT_USER, password: config.apiKey },
      simSpeed: config.simSpeed,
      log,
    });
    life.defer('simulator', () => simulator.stop());
    const readyLine =
      `hexedge dev ready: gateway ${gateway.url} mqtt ${brokerUrl} api-key ${config.apiKey} nodes ${config.nodes} data-dir ${config.dataDir}` +
      // The dashboard on a line of its own: tools parse the ready line's fields, which stay as they were.
      `\nhexedge dev dashboard: ${gateway.url}/dashboard/` +
      `\n${broker.line}` +
      `\nhexedge dev oracle: ${oracle.url}` +
      simulator.line;
    return { stop: () => life.stop(), readyLine };
  });
}

export const devCommand: Command = {
  name: ['dev'],
  usage: `  dev        broker, gateway, oracle, firmware bridge and edge nodes on this machine
             --port 8787  --mqtt-port 1883  --host 127.0.0.1  --nodes 3  --data-dir .hexedge
             --api-key KEY (default: random, printed)  --heartbeat-ms 2000
             --sim-speed 60 (LoRaWAN device simulator's clock vs real time; 0: off)
             --broker auto (mosquitto where installed, else the embedded aedes: MQTT 3.1.1 only) | mosquitto | aedes
`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      port: { type: 'string' },
      'mqtt-port': { type: 'string' },
      host: { type: 'string' },
      nodes: { type: 'string' },
      'data-dir': { type: 'string' },
      'api-key': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'sim-speed': { type: 'string' },
      broker: { type: 'string' },
    });
    const parsed = devConfigSchema.safeParse({
      port: portFlag(values.port),
      mqttPort: portFlag(values['mqtt-port'], '--mqtt-port'),
      host: values.host,
      nodes: numberFlag(values.nodes, '--nodes', { integer: true }),
      dataDir: values['data-dir'],
      apiKey: values['api-key'],
      heartbeatMs: numberFlag(values['heartbeat-ms'], '--heartbeat-ms', { integer: true }),
      simSpeed: numberFlag(values['sim-speed'], '--sim-speed'),
      broker: values.broker,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`,
      );
    }
    const config = {
      ...parsed.data,
      apiKey: parsed.data.apiKey ?? `hx_${randomBytes(18).toString('base64url')}`,
    };
    const { stop, readyLine } = await dev(config, { signal: io.signal, log: io.log });
    io.log(readyLine);
    return { stop };
  },
};
