import { BrokerAccess, createGatewayApp, DeviceCredentials, KeyRing, MemoryModelCatalog } from '@hexedge/gateway';
import { FileDeviceStore, nodeSha256Hex, PooledNodeClient, SqliteKeyStore, startMqttIngress } from '@hexedge/gateway/node';
import { readModelDir } from '@hexedge/edge-node/node';
import { Placement } from '@hexedge/placement';
import { SqliteNodeStore } from '@hexedge/placement/node';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_KEY_ENV, MQTT_PASSWORD_ENV, parseGatewayConfig, type GatewayConfig } from '../config/gateway-config.ts';
import { dashboardAssets } from '../dashboard-assets.ts';
import { listenHttp } from '../listen-http.ts';

export const GATEWAY_USAGE = `  gateway    the HTTP geo API (and MQTT ingress) as a standalone service
             [--config FILE] [--port N] [--host H] [--data-dir DIR] [--models-dir DIR] [--mqtt URL]
             secrets from the environment: ${ADMIN_KEY_ENV} (required), ${MQTT_PASSWORD_ENV}
`;

export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

/**
 * `hexedge gateway`'s composition root: placement and API keys in SQLite under the data directory (a
 * restart loses no registration, sequence number, trust or key), the origin registry from the models
 * directory, the HTTP API, and — when a broker is configured — the MQTT ingress with a persistent
 * session. Shuts down in reverse order.
 */
export async function startGateway(config: GatewayConfig, secrets: { adminKey: string; mqttPassword?: string }, log: (m: string) => void): Promise<RunningGateway> {
  const stack: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const close of stack.reverse()) await Promise.resolve(close()).catch((err: Error) => log(`shutdown: ${err.message}`));
    stack.length = 0;
  };
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const keyStore = new SqliteKeyStore({ path: path.join(config.dataDir, 'keys.sqlite') });
    stack.push(() => keyStore.close());
    const keys = new KeyRing({ store: keyStore, sha256: nodeSha256Hex });
    await keys.adopt(secrets.adminKey, { name: 'gateway admin', role: 'admin' });

    const nodeStore = new SqliteNodeStore({ path: path.join(config.dataDir, 'placement.sqlite') });
    stack.push(() => nodeStore.close());
    const placement = new Placement({ heartbeatIntervalMs: config.heartbeatIntervalMs, assumeLocationsVerified: config.assumeLocationsVerified, store: nodeStore });
    stack.push(() => placement.checkpoint());

    const catalog = new MemoryModelCatalog();
    const modelsDir = config.modelsDir ?? path.join(config.dataDir, 'models');
    const models = await readModelDir(modelsDir).catch(() => ({ artifacts: [], problems: [] }));
    for (const a of models.artifacts) catalog.add(a.manifest, a.bytes);
    for (const p of models.problems) log(`origin registry: not serving ${p.file}: ${p.message}`);

    const nodeClient = new PooledNodeClient();
    stack.push(() => nodeClient.close());
    const { app, service, limiter } = createGatewayApp({
      placement,
      keys,
      catalog,
      nodeClient,
      sha256: nodeSha256Hex,
      log: (entry) => entry.level !== 'info' && log(JSON.stringify(entry)),
      ...(config.oracle ? { oracle: config.oracle } : {}),
      dashboard: { staticAssets: await dashboardAssets(log) },
    });
    const http = await listenHttp({ app, port: config.port, host: config.host });
    stack.push(() => http.close());

    if (config.mqtt) {
      const access = new BrokerAccess({ devices: new DeviceCredentials({ store: new FileDeviceStore(path.join(config.dataDir, 'devices.json')) }), keys });
      const ingress = await startMqttIngress({
        url: config.mqtt.url,
        clientId: config.mqtt.clientId,
        username: config.mqtt.username,
        password: secrets.mqttPassword ?? secrets.adminKey,
        protocolVersion: config.mqtt.protocolVersion,
        shareGroup: config.mqtt.shared ? undefined : false,
        service,
        limiter,
        principalOf: (clientId) => access.principalOf(clientId),
        log: (entry) => entry.level !== 'info' && log(`mqtt: ${JSON.stringify(entry)}`),
      });
      stack.push(() => ingress.close());
    }
    return { url: http.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** `hexedge gateway [flags]`: parses config and secrets, starts, prints one `ready` line. */
export async function gatewayCommand(argv: string[], log: (m: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<RunningGateway> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      mqtt: { type: 'string' },
    },
  });
  const fileText = values.config ? await readFile(values.config, 'utf8') : undefined;
  const base = parseGatewayConfig({ ...(fileText !== undefined ? { fileText, fileName: values.config! } : {}) });
  const config = parseGatewayConfig({
    ...(fileText !== undefined ? { fileText, fileName: values.config! } : {}),
    overrides: {
      port: num(values.port),
      host: values.host,
      dataDir: values['data-dir'],
      modelsDir: values['models-dir'],
      mqtt: values.mqtt ? { ...base.mqtt, url: values.mqtt } : undefined,
    },
  });
  const adminKey = env[ADMIN_KEY_ENV];
  if (!adminKey || !/^[\x21-\x7e]{16,256}$/.test(adminKey)) {
    throw new Error(`set ${ADMIN_KEY_ENV} to the admin API key (16–256 printable characters); it is read from the environment so it never sits in a file or a process list`);
  }
  const mqttPassword = env[MQTT_PASSWORD_ENV];
  const running = await startGateway(config, { adminKey, ...(mqttPassword ? { mqttPassword } : {}) }, log);
  log(`hexedge gateway ready: ${running.url}${config.mqtt ? ` mqtt ${config.mqtt.url}` : ''} data-dir ${config.dataDir}`);
  return running;
}
