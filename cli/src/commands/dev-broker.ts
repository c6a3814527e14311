import { connectMqttPublisher, findDynsecPlugin } from '@hexedge/gateway/node';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import { DEFAULT_GATEWAY_USER, writeBrokerFiles } from './broker-files.ts';
import { findMosquitto, spawnMosquitto } from './mosquitto-process.ts';

export type BrokerChoice = 'auto' | 'mosquitto' | 'aedes';

/**
 * The username `hexedge dev`'s admin key logs in with on its Mosquitto (password: the key). The
 * embedded aedes broker takes any username with an API key, so this one works on both.
 */
export const DEV_ADMIN_MQTT_USER = 'admin';

/** What the embedded broker does not do, said whenever `hexedge dev` runs it. */
export const AEDES_LACKS =
  'MQTT 3.1.1 only: no MQTT v5 (so no request/response with Response Topic and Correlation Data, mosquitto_rr -V mqttv5 is refused), no shared subscriptions, no persistence (sessions and queued requests end with hexedge dev)';

/** An auto-picked port can be taken between picking and Mosquitto's bind: pick again this often. */
const PORT_ATTEMPTS = 3;

export type DevBroker =
  | { kind: 'aedes'; line: string }
  | {
      kind: 'mosquitto';
      url: string;
      /** The gateway's own login (full access; its password is generated per start, never printed). */
      gatewayLogin: { username: string; password: string };
      line: string;
      readonly exited: boolean;
      stop(): Promise<void>;
    };

const freePort = (host: string) =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

type MosquittoParts = { binary: string; pluginPath: string } | { missing: string };

/** Mosquitto and its dynamic-security plugin, or why not. */
function findMosquittoParts(): MosquittoParts {
  const binary = findMosquitto();
  if (!binary) return { missing: 'mosquitto is not installed (not in /usr/sbin, /usr/bin or the PATH)' };
  try {
    return { binary, pluginPath: findDynsecPlugin() };
  } catch (err) {
    return { missing: (err as Error).message };
  }
}

/**
 * Which broker runs: aedes when asked for, or (`auto`) when Mosquitto is missing, with the line that
 * says what it lacks; a missing Mosquitto asked for by name is an error saying what to install.
 */
export function chooseBroker(
  choice: BrokerChoice,
  find: () => MosquittoParts = findMosquittoParts,
): { kind: 'aedes'; line: string } | { kind: 'mosquitto'; binary: string; pluginPath: string } {
  if (choice === 'aedes')
    return {
      kind: 'aedes',
      line: `hexedge dev mqtt: embedded aedes broker (--broker aedes); ${AEDES_LACKS}`,
    };
  const parts = find();
  if ('missing' in parts) {
    if (choice === 'mosquitto')
      throw new Error(
        `--broker mosquitto: ${parts.missing}; install the Debian package mosquitto (npm start does, as root)`,
      );
    return {
      kind: 'aedes',
      line: `hexedge dev mqtt: ${parts.missing}, so the embedded aedes broker runs instead; ${AEDES_LACKS}. Install mosquitto (npm start does, as root) for MQTT v5`,
    };
  }
  return { kind: 'mosquitto', ...parts };
}

/**
 * `hexedge dev`'s broker. With Mosquitto installed (or `--broker mosquitto`): Mosquitto as a child
 * process, configured in `dir` by the files `hexedge broker acl` writes (dynamic security, persistence)
 * from the same credentials the gateway uses — the devices in its devices.json, the gateway's own
 * login, and the admin key as user `admin` — ready once a real MQTT v5 login succeeds. Without it
 * (or `--broker aedes`): the gateway's embedded aedes broker, announced with what it lacks.
 */
export async function startDevBroker(options: {
  choice: BrokerChoice;
  dir: string;
  devicesFile: string;
  host: string;
  port: number;
  adminKey: string;
  log: (line: string) => void;
}): Promise<DevBroker> {
  const { log } = options;
  const parts = chooseBroker(options.choice);
  if (parts.kind === 'aedes') {
    // Said at once, not only among the ready lines: a user should know first what the fallback lacks.
    log(parts.line);
    return parts;
  }
  const gatewayLogin = { username: DEFAULT_GATEWAY_USER, password: randomBytes(24).toString('base64url') };
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort(options.host));
    const files = await writeBrokerFiles({
      dir: options.dir,
      devicesFile: options.devicesFile,
      users: [gatewayLogin, { username: DEV_ADMIN_MQTT_USER, password: options.adminKey }],
      port,
      host: options.host,
      // Started as root, Mosquitto would drop to user mosquitto, who cannot read a private data dir.
      runAs: os.userInfo().username,
      pluginPath: parts.pluginPath,
      extraLines: ['log_dest stderr', 'log_timestamp false'],
    });
    let proc;
    try {
      proc = await spawnMosquitto({ binary: parts.binary, configFile: files.configFile, port, log });
    } catch (err) {
      if ((err as { code?: string }).code === 'EADDRINUSE' && !options.port && attempt < PORT_ATTEMPTS)
        continue;
      throw err;
    }
    const url = `mqtt://${options.host}:${port}`;
    // Ready means a client gets in: an MQTT v5 login with the gateway's credentials.
    try {
      const probe = await connectMqttPublisher({
        url,
        clientId: 'hexedge-dev-broker-check',
        ...gatewayLogin,
        protocolVersion: 5,
      });
      await probe.close();
    } catch (err) {
      await proc.stop();
      throw new Error(`Mosquitto at ${url} refused the gateway's MQTT v5 login: ${(err as Error).message}`);
    }
    return {
      kind: 'mosquitto',
      url,
      gatewayLogin,
      line:
        `hexedge dev mqtt: Mosquitto ${proc.version} (MQTT v5 and 3.1.1, shared subscriptions, persistence in ${options.dir}); ` +
        `log in as user ${DEV_ADMIN_MQTT_USER} with the API key, or as a device (${files.devices} in ${options.devicesFile}; hexedge broker device add, then restart)`,
      get exited() {
        return proc.exited;
      },
      stop: () => proc.stop(),
    };
  }
}
